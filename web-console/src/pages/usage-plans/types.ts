// The management API's UsagePlan shapes (GetUsagePlans, CreateUsagePlan), from its OpenAPI
// document, under the names these screens use; GetUsage's answer is typed here.
import type { ApiStage, QuotaSettings, ThrottleSettings, UsagePlan, UsagePlanKey } from "../../api/types";
export type { ApiStage };
export type Throttle = ThrottleSettings;
export type Quota = QuotaSettings;
export type Plan = UsagePlan;
export type PlanKey = UsagePlanKey;
/** GetUsage: per key id, one `[used, remaining]` pair per day from `startDate`. */
export type Usage = { usagePlanId: string; startDate: string; endDate: string; values: Record<string, [number, number][]>; position?: string };
