// The management API's shapes for custom domain names, base path mappings and client
// certificates (GetDomainName(s), GetBasePathMapping(s), GetClientCertificate(s)), from its
// OpenAPI document.
import type { BasePathMapping, ClientCertificate, DomainName } from "../../api/types";
export type { BasePathMapping, ClientCertificate, DomainName };
/** The model's `SecurityPolicy` values the control plane accepts. */
export const SECURITY_POLICIES = [
  "TLS_1_2",
  "TLS_1_0",
  "SecurityPolicy_TLS13_1_3_2025_09",
  "SecurityPolicy_TLS13_1_2_2021_06",
  "SecurityPolicy_TLS13_1_2_PQ_2025_09",
  "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09",
  "SecurityPolicy_TLS13_1_2_Ext2_PQ_2025_09",
  "SecurityPolicy_TLS13_1_3_FIPS_2025_09",
  "SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09",
  "SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09",
  "SecurityPolicy_TLS13_1_2_Ext2_FIPS_PQ_2025_09",
  "SecurityPolicy_TLS13_2025_EDGE",
  "SecurityPolicy_TLS12_PFS_2025_EDGE",
  "SecurityPolicy_TLS12_2018_EDGE",
];

export const endpointType = (d: DomainName) => d.endpointConfiguration?.types?.[0] ?? "EDGE";
export const targetName = (d: DomainName) => d.regionalDomainName ?? d.distributionDomainName ?? "";
export const certName = (d: DomainName) => d.regionalCertificateName ?? d.certificateName;
export const certArn = (d: DomainName) => d.regionalCertificateArn ?? d.certificateArn;
/** A base path in a URL path segment (`v1/orders` → `v1%2Forders`, empty → `(none)`). */
export const basePathSegment = (p: string) => encodeURIComponent(p === "" ? "(none)" : p);
