// The shell: session bootstrap, header and navigation, and the route table. Every screen
// has its own URL, so reloading or sharing a link lands on the same screen.
import { useEffect, useState } from "preact/hooks";
import { currentUser, refreshSession, setSignedOutHandler, signOut, type User } from "./api";
import { Link, match, navigate, usePath } from "./router";
import { Loading, Toasts } from "./ui";
import { SignIn } from "./pages/signin";
import { ApisList } from "./pages/apis/apis";
import { ApiScreen } from "./pages/apis/api";
import { WS_BASE, WsApisList } from "./pages/websocket/apis";
import { WsApiScreen } from "./pages/websocket/api";
import { HTTP_BASE, HttpApisList } from "./pages/http/apis";
import { HttpApiScreen } from "./pages/http/api";
import { Settings, isSettingsTab } from "./pages/settings";
import { ApiKeys } from "./pages/keys/keys";
import { ApiKeyPage } from "./pages/keys/key";
import { UsagePlans } from "./pages/usage-plans/plans";
import { UsagePlan } from "./pages/usage-plans/plan";
import { NotFound } from "./shared/not-found";
import { Alarms } from "./pages/alarms/alarms";
import { AlarmPage } from "./pages/alarms/alarm";
import { AuditLog } from "./pages/audit/audit";
import { Logs } from "./pages/logs/logs";
import { DomainNames } from "./pages/domains/domains";
import { DomainNamePage } from "./pages/domains/domain";
import { ClientCertificates } from "./pages/domains/client-certs";

export function App() {
  const path = usePath();
  const [user, setUser] = useState<User | null | undefined>(undefined);

  useEffect(() => {
    setSignedOutHandler(() => {
      setUser(null);
      const back = location.pathname + location.search;
      navigate(`/signin${back.startsWith("/signin") ? "" : `?next=${encodeURIComponent(back)}`}`, true);
    });
    currentUser().then(setUser, () => setUser(null));
  }, []);

  // Keep the short-lived access token fresh while the console is open.
  useEffect(() => {
    if (!user) return;
    const t = setInterval(() => void refreshSession(), 5 * 60 * 1000);
    return () => clearInterval(t);
  }, [user]);

  useEffect(() => {
    if (user === null && path !== "/signin") {
      navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, true);
    } else if (user && (path === "/" || path === "/signin")) {
      const next = new URLSearchParams(location.search).get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/apis", true);
    }
  }, [user, path]);

  if (user === undefined) return <Loading what="Starting the console" />;
  if (user === null || path === "/signin")
    return (
      <>
        <SignIn onSignedIn={setUser} />
        <Toasts />
      </>
    );

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link href="/apis" class="brand">
          API Gateway
        </Link>
        <nav aria-label="Main">
          <Link href="/apis" aria-current={path.startsWith("/apis") && !path.startsWith(WS_BASE) && !path.startsWith(HTTP_BASE) ? "page" : undefined}>
            APIs
          </Link>
          <Link href={HTTP_BASE} aria-current={path.startsWith(HTTP_BASE) ? "page" : undefined}>
            HTTP APIs
          </Link>
          <Link href={WS_BASE} aria-current={path.startsWith(WS_BASE) ? "page" : undefined}>
            WebSocket APIs
          </Link>
          <Link href="/api-keys" aria-current={path.startsWith("/api-keys") ? "page" : undefined}>
            API keys
          </Link>
          <Link href="/usage-plans" aria-current={path.startsWith("/usage-plans") ? "page" : undefined}>
            Usage plans
          </Link>
          <Link href="/custom-domains" aria-current={path.startsWith("/custom-domains") || path.startsWith("/client-certificates") ? "page" : undefined}>
            Domains
          </Link>
          <Link href="/alarms" aria-current={path.startsWith("/alarms") ? "page" : undefined}>
            Alarms
          </Link>
          <Link href="/audit" aria-current={path.startsWith("/audit") ? "page" : undefined}>
            Audit log
          </Link>
          <Link href="/logs" aria-current={path.startsWith("/logs") ? "page" : undefined}>
            Logs
          </Link>
          <Link href="/settings/account" aria-current={path.startsWith("/settings") ? "page" : undefined}>
            Settings
          </Link>
        </nav>
        <Toasts bar />
        <span class="who">
          {user.username}
          {user.isAdmin ? " (admin)" : ""}
        </span>
        <button
          type="button"
          class="secondary small"
          onClick={async () => {
            await signOut();
            setUser(null);
            navigate("/signin", true);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Routes path={path} user={user} />
      </main>
    </>
  );
}

function Routes({ path, user }: { path: string; user: User }) {
  if (path === "/apis") return <ApisList />;
  // WebSocket APIs live under /apis/websocket (a REST API id is never "websocket"), so the
  // control plane's /apis/{*rest} client route serves them.
  if (path === WS_BASE) return <WsApisList />;
  const ws = match(`${WS_BASE}/:id`, path) ?? prefix(`${WS_BASE}/:id/`, path);
  if (ws) return <WsApiScreen key={ws.id} apiId={ws.id} path={path} />;
  // HTTP APIs likewise under /apis/http (a REST API id is never "http").
  if (path === HTTP_BASE) return <HttpApisList />;
  const httpApi = match(`${HTTP_BASE}/:id`, path) ?? prefix(`${HTTP_BASE}/:id/`, path);
  if (httpApi) return <HttpApiScreen key={httpApi.id} apiId={httpApi.id} path={path} />;
  const api = match("/apis/:id", path) ?? prefix("/apis/:id/", path);
  if (api) return <ApiScreen apiId={api.id} path={path} />;
  const s = match("/settings/:tab", path);
  if (s && isSettingsTab(s.tab)) return <Settings tab={s.tab} user={user} />;
  if (path === "/settings") return <Settings tab="account" user={user} />;
  if (match("/api-keys", path)) return <ApiKeys />;
  const apiKey = match("/api-keys/:id", path);
  if (apiKey) return <ApiKeyPage key={apiKey.id} keyId={apiKey.id} />;
  if (match("/usage-plans", path)) return <UsagePlans />;
  const plan = match("/usage-plans/:id", path);
  if (plan) return <UsagePlan key={plan.id} planId={plan.id} />;
  if (match("/custom-domains", path)) return <DomainNames />;
  const domain = match("/custom-domains/:name", path);
  if (domain) return <DomainNamePage key={domain.name} name={domain.name} />;
  if (match("/client-certificates", path)) return <ClientCertificates />;
  if (match("/alarms", path)) return <Alarms />;
  const alarm = match("/alarms/:name", path);
  if (alarm) return <AlarmPage key={alarm.name} name={alarm.name} />;
  if (match("/audit", path)) return <AuditLog />;
  if (match("/logs", path)) return <Logs />;
  return <NotFound />;
}

function prefix(pattern: string, path: string) {
  const n = pattern.split("/").filter(Boolean).length;
  const head = "/" + path.split("/").filter(Boolean).slice(0, n).join("/");
  return match(pattern, head);
}
