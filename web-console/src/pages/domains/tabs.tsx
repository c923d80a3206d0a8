// The tabs of the domains area: custom domain names and client certificates (one entry in
// the main navigation for both).
import { Link } from "../../router";

export function DomainTabs({ current }: { current: "domains" | "certs" }) {
  return (
    <nav class="tabs" aria-label="Domains and certificates">
      <Link href="/custom-domains" aria-current={current === "domains" ? "page" : undefined}>
        Custom domain names
      </Link>
      <Link href="/client-certificates" aria-current={current === "certs" ? "page" : undefined}>
        Client certificates
      </Link>
    </nav>
  );
}
