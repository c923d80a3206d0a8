// The management API's ApiKey shape (GetApiKeys, CreateApiKey), from its OpenAPI document.
export type { ApiKey } from "../../api/types";
