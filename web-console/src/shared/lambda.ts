/** Lambda function ARNs and API Gateway's invocation URIs for them. */

/** A Lambda function ARN becomes its invocation URI; anything else is kept as typed. */
export const lambdaUri = (v: string) => {
  const region = /^arn:aws:lambda:([^:]+):/.exec(v)?.[1];
  return region ? `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${v}/invocations` : v;
};
