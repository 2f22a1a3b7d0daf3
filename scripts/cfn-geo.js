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

/**
 * The ingest function's CLOUDFRONT_ORIGIN_SECRET (`${file(./scripts/cfn-geo.js):cloudFrontOriginSecret}`):
 * the param cloudFrontOriginSecret when a stage sets it; else, with the edge on, a dynamic reference to
 * the secret EdgeOriginSecret generates (the same value the distribution sends as x-origin-verify);
 * else none. The local stage has no distribution and no Secrets Manager: none there, which serverless
 * offline could not resolve anyway (it renders Fn::Sub and Fn::Join only).
 */
async function cloudFrontOriginSecret({ resolveVariable }) {
  const own = await resolveVariable("param:cloudFrontOriginSecret, ''");
  if (own !== undefined && own !== null && String(own) !== '') return String(own);
  if ((await resolveVariable('sls:stage')) === 'local' || flag('edge', await resolveVariable('param:edge')) !== 'true') return '';
  return { 'Fn::Sub': '{{resolve:secretsmanager:${EdgeOriginSecret}}}' };
}

module.exports = {
  cloudFrontOriginSecret,
  trustCloudFrontHeaders: async ({ resolveVariable }) => {
    const own = await resolveVariable('param:trustCloudFrontHeaders');
    if (own !== undefined && own !== null && String(own) !== '') return flag('trustCloudFrontHeaders', own);
    return flag('edge', await resolveVariable('param:edge'));
  },
};
