'use strict';
/**
 * Package-time resolver for the ingest function's TRUST_CLOUDFRONT_HEADERS
 * (`${file(./scripts/cfn-geo.js):trustCloudFrontHeaders}`): the param trustCloudFrontHeaders when a
 * stage sets it, else ('') whether the edge is on (param edge). A stage behind the distribution must
 * believe its viewer headers (behind it, API Gateway's sourceIp is a CloudFront address); a stage
 * without it has no reason to (docs/security.md "Geography").
 */
const flag = (name, raw) => {
  const v = String(raw).trim().toLowerCase();
  if (v !== 'true' && v !== 'false') throw new Error(`param ${name} must be true or false; got "${raw}"`);
  return v;
};

module.exports = {
  trustCloudFrontHeaders: async ({ resolveVariable }) => {
    const own = await resolveVariable('param:trustCloudFrontHeaders');
    if (own !== undefined && own !== null && String(own) !== '') return flag('trustCloudFrontHeaders', own);
    return flag('edge', await resolveVariable('param:edge'));
  },
};
