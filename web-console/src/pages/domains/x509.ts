// Reads the subject's common name and validity of a PEM certificate in the browser (a few
// DER fields, no library), so the upload dialogs can say which certificate was pasted and
// when it expires before it is sent: the management API returns no certificate body nor
// expiry for a domain (AWS's DomainName shape has none).

export type CertSummary = { commonName?: string; notBefore: Date; notAfter: Date };

type Tlv = { tag: number; start: number; end: number };

function tlv(b: Uint8Array, off: number): Tlv {
  if (off + 2 > b.length) throw new Error("truncated");
  const tag = b[off];
  let len = b[off + 1];
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error("bad length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i];
    start += n;
  }
  const end = start + len;
  if (end > b.length) throw new Error("truncated");
  return { tag, start, end };
}

function time(b: Uint8Array, t: Tlv): Date {
  const s = String.fromCharCode(...b.subarray(t.start, t.end));
  const m = t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new Error("bad time");
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year >= 50 ? 1900 : 2000;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/** The first certificate of a PEM text, summarised; undefined when it is not one. */
export function summarise(pem: string): CertSummary | undefined {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) return undefined;
  try {
    const b = Uint8Array.from(atob(m[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    const cert = tlv(b, 0);
    const tbs = tlv(b, cert.start);
    let p = tbs.start;
    const first = tlv(b, p);
    if (first.tag === 0xa0) p = first.end; // [0] version
    p = tlv(b, p).end; // serial number
    p = tlv(b, p).end; // signature algorithm
    p = tlv(b, p).end; // issuer
    const validity = tlv(b, p);
    const nb = tlv(b, validity.start);
    const na = tlv(b, nb.end);
    const subject = tlv(b, validity.end);
    let commonName: string | undefined;
    // The subject's CN: OID 2.5.4.3 (06 03 55 04 03), then its string.
    for (let i = subject.start; i + 5 < subject.end; i++) {
      if (b[i] === 0x06 && b[i + 1] === 0x03 && b[i + 2] === 0x55 && b[i + 3] === 0x04 && b[i + 4] === 0x03) {
        const v = tlv(b, i + 5);
        commonName = new TextDecoder().decode(b.subarray(v.start, v.end));
        break;
      }
    }
    return { commonName, notBefore: time(b, nb), notAfter: time(b, na) };
  } catch {
    return undefined;
  }
}

/** A hint for a pasted certificate body: its CN and expiry (or that it has expired). */
export function certHint(pem: string, fallback: string): string {
  if (!pem.trim()) return fallback;
  const s = summarise(pem);
  if (!s) return fallback;
  const when = s.notAfter.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  const cn = s.commonName ? `CN=${s.commonName}, ` : "";
  return s.notAfter.getTime() < Date.now() ? `${cn}expired ${when}` : `${cn}valid until ${when}`;
}
