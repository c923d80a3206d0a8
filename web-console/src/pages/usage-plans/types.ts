// The management API's UsagePlan shapes (GetUsagePlans, CreateUsagePlan, GetUsage).
export type Throttle = { rateLimit: number; burstLimit: number };
export type Quota = { limit: number; offset: number; period: "DAY" | "WEEK" | "MONTH" };
export type ApiStage = { apiId: string; stage: string; throttle?: Record<string, Throttle> };
export type Plan = {
  id: string;
  name: string;
  description?: string;
  apiStages?: ApiStage[];
  throttle?: Throttle;
  quota?: Quota;
};
export type PlanKey = { id: string; type: string; name: string };
/** GetUsage: per key id, one `[used, remaining]` pair per day from `startDate`. */
export type Usage = { usagePlanId: string; startDate: string; endDate: string; values: Record<string, [number, number][]>; position?: string };
