// A small typed client of the control plane's CloudTrail API (the management audit log),
// spoken as boto3 speaks it: JSON 1.1, `POST /` with
// `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`,
// shapes as in the official model (cloudtrail.service-2.json), timestamps as epoch
// seconds. Through `call` in api.ts, so the session and CSRF token apply; errors become an
// `ApiError` with CloudTrail's exception name (InvalidTimeRangeException, ...).
import { call, RawBody } from "./api";

const TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";

export type LookupAttributeKey = "EventId" | "EventName" | "ReadOnly" | "Username" | "ResourceType" | "ResourceName" | "EventSource" | "AccessKeyId";
export type TrailEvent = {
  EventId: string;
  EventName: string;
  ReadOnly?: string;
  AccessKeyId?: string;
  EventTime: number;
  EventSource?: string;
  Username?: string;
  Resources?: { ResourceType?: string; ResourceName?: string }[];
  CloudTrailEvent: string;
};
export type LookupInput = {
  LookupAttributes?: { AttributeKey: LookupAttributeKey; AttributeValue: string }[];
  StartTime?: number;
  EndTime?: number;
  MaxResults?: number;
  NextToken?: string;
};

/** One LookupEvents page. */
export const lookupEvents = (input: LookupInput) =>
  call<{ Events?: TrailEvent[]; NextToken?: string }>("POST", "/", new RawBody(JSON.stringify(input), "application/x-amz-json-1.1"), {
    "x-amz-target": `${TARGET}.LookupEvents`,
  });
