// The management API's ApiKey shape (GetApiKeys, CreateApiKey).
export type ApiKey = {
  id: string;
  name: string;
  value?: string;
  description?: string;
  customerId?: string;
  enabled: boolean;
  createdDate: number;
  lastUpdatedDate: number;
};
