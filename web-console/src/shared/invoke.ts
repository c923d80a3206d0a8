// Where the data-plane nodes answer, to show full invoke URLs. The control plane does not
// know the nodes' public address, so the console keeps it per browser (localStorage), with
// the defaults of a local run: a node on port 8081 and `--execute-api-domain
// execute-api.localhost`.

export type InvokeEndpoint = { node: string; domain: string };

const KEY = "apigw.invokeEndpoint";

export function defaultEndpoint(): InvokeEndpoint {
  return { node: `${location.protocol}//${location.hostname}:8081`, domain: "execute-api.localhost:8081" };
}

export function invokeEndpoint(): InvokeEndpoint {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? "null");
    if (v && typeof v.node === "string" && typeof v.domain === "string") return v;
  } catch {
    // unreadable: fall back to the defaults
  }
  return defaultEndpoint();
}

export function setInvokeEndpoint(e: InvokeEndpoint) {
  localStorage.setItem(KEY, JSON.stringify({ node: e.node.replace(/\/+$/, ""), domain: e.domain.replace(/^\.+|\/+$/g, "") }));
}

/** The two invoke URLs of a stage: the execute-api host form and the node path form. */
export function invokeUrls(apiId: string, stage: string, e: InvokeEndpoint = invokeEndpoint()) {
  const scheme = e.node.startsWith("https:") ? "https" : "http";
  const s = encodeURIComponent(stage);
  return {
    host: `${scheme}://${apiId}.${e.domain}/${s}/`,
    node: `${e.node}/restapis/${apiId}/${s}/_user_request_/`,
  };
}
