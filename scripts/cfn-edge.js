'use strict';
/**
 * The edge (CloudFront in front of the SDK bucket and the HTTP API), at package time:
 *   - resolvers for serverless.yml (`${file(./scripts/cfn-edge.js):name}`) that check the edge params
 *     and fail the package with a clear message, as scripts/cfn-params.js does for capacity;
 *   - the built SDK files the deploy uploads (Custom::SdkUpload, handlers/sdk-upload.ts), read from
 *     client-sdk/dist/manifest.json (client-sdk/build.mjs), and the hashed name and SRI hash the
 *     SdkSnippet output names. The plugin scripts/cfn-sdk.js puts the files into the template.
 */
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const tsx = require('tsx/cjs/api');

const root = join(__dirname, '..');
const SDK_DIR = join(root, 'client-sdk');

/** The key prefix of the SDK in its bucket and the path CloudFront serves it under. */
const SDK_PREFIX = 'sdk/';
/**
 * A content-hashed name never changes bytes: cache it for a year and tell browsers not to revalidate
 * (RFC 8246 "immutable"). CloudFront's CachingOptimized policy honours the origin's max-age up to its
 * own maximum of one year (CloudFront developer guide, "Use managed cache policies").
 */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const JS_TYPE = 'text/javascript; charset=utf-8';

const flag = (name, raw, dflt) => {
  const v = String(raw ?? dflt)
    .trim()
    .toLowerCase();
  if (v !== 'true' && v !== 'false') throw new Error(`param ${name} must be true or false; got "${raw}"`);
  return v;
};

/**
 * The optional custom domain: both params or neither. CloudFront only takes ACM certificates from
 * us-east-1 (CloudFront developer guide, "Requirements for using SSL/TLS certificates with
 * CloudFront": "the certificate must be requested or imported in the US East (N. Virginia) Region"),
 * so any other region in the ARN fails here instead of 15 minutes into a deploy.
 */
function edgeDomainOf({ edgeDomain, edgeCertificateArn }) {
  const domain = String(edgeDomain ?? '')
    .trim()
    .toLowerCase();
  const cert = String(edgeCertificateArn ?? '').trim();
  if (!domain && !cert) return { domain: '', cert: '' };
  if (!domain || !cert)
    throw new Error(
      'params edgeDomain and edgeCertificateArn go together: give both (the domain and its ACM certificate in us-east-1) or neither',
    );
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain))
    throw new Error(`param edgeDomain must be a host name such as t.example.com; got "${edgeDomain}"`);
  const m = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[A-Za-z0-9-]+$/.exec(cert);
  if (!m) throw new Error(`param edgeCertificateArn must be an ACM certificate ARN; got "${edgeCertificateArn}"`);
  if (m[1] !== 'us-east-1')
    throw new Error(
      `param edgeCertificateArn: CloudFront only uses ACM certificates from us-east-1; this one is in ${m[1]} (request or import the certificate in us-east-1)`,
    );
  return { domain, cert };
}

/**
 * The optional WAF web ACL: a per-IP limit of requests to /v1/ per 5 minutes, or '' for none. A web
 * ACL for CloudFront must be created in us-east-1 (AWS WAF developer guide, "Resources that you can
 * protect with AWS WAF"; AWS::WAFv2::WebACL Scope: "For CLOUDFRONT, you must create your WAFv2
 * resources in the US East (N. Virginia) Region, us-east-1"). A stack in another region cannot hold
 * one, so the package fails there with the way out: create the ACL in us-east-1 and pass its ARN as
 * edgeWebAclArn. The limit counts requests per IP over WAF's default 5-minute window (WAFV2 API,
 * RateBasedStatement); below 100 a visitor clicking through a few pages, one request each, would come
 * close to it, so smaller values are refused as a likely typo.
 */
function wafOf({ region, edgeWafRateLimit, edgeWebAclArn }) {
  const raw = String(edgeWafRateLimit ?? '').trim();
  const arn = String(edgeWebAclArn ?? '').trim();
  if (arn && !/^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[^/]+\/[a-f0-9-]+$/.test(arn)) {
    throw new Error(
      `param edgeWebAclArn must be the ARN of a CLOUDFRONT-scope web ACL (arn:aws:wafv2:us-east-1:ACCOUNT:global/webacl/NAME/ID); got "${arn}"`,
    );
  }
  if (!raw) return { limit: '', arn };
  if (arn)
    throw new Error('params edgeWafRateLimit and edgeWebAclArn: give one (a web ACL this stack creates, or one you created), not both');
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 100)
    throw new Error(`param edgeWafRateLimit must be an integer >= 100 (requests to /v1/ per IP per 5 minutes); got "${raw}"`);
  if (region !== 'us-east-1') {
    throw new Error(
      `param edgeWafRateLimit: a web ACL for CloudFront can only be created in us-east-1, and this stack deploys to ${region}. Create it there (docs/operations.md "Edge: WAF") and pass --param edgeWebAclArn=ARN instead`,
    );
  }
  return { limit: n, arn: '' };
}

/** The built SDK as client-sdk/dist/manifest.json lists it, each file checked against its SRI hash. */
function readSdkBuild(dist = join(SDK_DIR, 'dist')) {
  const manifest = JSON.parse(readFileSync(join(dist, 'manifest.json'), 'utf8'));
  const files = Object.entries(manifest.files).map(([name, f]) => {
    const body = readFileSync(join(dist, f.file), 'utf8');
    const integrity = sriOf(body);
    if (integrity !== f.integrity)
      throw new Error(`client-sdk/dist/${f.file} does not match its manifest integrity: rebuild with npm run build:sdk`);
    return { name, Key: `${SDK_PREFIX}${f.file}`, Body: body, ContentType: JS_TYPE, CacheControl: IMMUTABLE, Integrity: integrity };
  });
  return { version: manifest.version, files };
}

let cached;
/**
 * What the deploy uploads, read once per process so the resolvers (snippet) and the plugin (upload)
 * see the same bytes. Builds client-sdk/dist first when it is missing or stale (local/sdk-build.ts).
 */
function sdkBuild() {
  if (!cached) {
    tsx.require('../local/sdk-build.ts', __filename).ensureSdkBuilt(SDK_DIR);
    cached = readSdkBuild();
  }
  return cached;
}

/** Subresource Integrity of `body` (W3C SRI, sha384). */
const sriOf = (body) => `sha384-${createHash('sha384').update(body).digest('base64')}`;

const fileNamed = (name) => {
  const f = sdkBuild().files.find((x) => x.name === name);
  if (!f) throw new Error(`client-sdk/dist/manifest.json lists no ${name}`);
  return f;
};

const params = async (resolveVariable) => ({
  region: String(await resolveVariable('self:provider.region')),
  edgeDomain: await resolveVariable('param:edgeDomain'),
  edgeCertificateArn: await resolveVariable('param:edgeCertificateArn'),
  edgeWafRateLimit: await resolveVariable('param:edgeWafRateLimit'),
  edgeWebAclArn: await resolveVariable('param:edgeWebAclArn'),
});

module.exports = {
  edge: async ({ resolveVariable }) => flag('edge', await resolveVariable('param:edge'), 'true'),
  hasEdgeDomain: async ({ resolveVariable }) => String(edgeDomainOf(await params(resolveVariable)).domain !== ''),
  edgeDomain: async ({ resolveVariable }) => edgeDomainOf(await params(resolveVariable)).domain,
  edgeCertificateArn: async ({ resolveVariable }) => edgeDomainOf(await params(resolveVariable)).cert,
  hasEdgeWaf: async ({ resolveVariable }) => String(wafOf(await params(resolveVariable)).limit !== ''),
  // A number CloudFormation accepts where the limit is unused (the ACL is conditional).
  edgeWafRateLimit: async ({ resolveVariable }) => wafOf(await params(resolveVariable)).limit || 100,
  hasEdgeWebAclArn: async ({ resolveVariable }) => String(wafOf(await params(resolveVariable)).arn !== ''),
  edgeWebAclArn: async ({ resolveVariable }) => wafOf(await params(resolveVariable)).arn,
  /** Path (below the edge's origin) and SRI hash of the full SDK build, for the SdkSnippet output. */
  sdkPath: () => `/${fileNamed('clickstream.min.js').Key}`,
  sdkIntegrity: () => fileNamed('clickstream.min.js').Integrity,
  SDK_PREFIX,
  IMMUTABLE,
  JS_TYPE,
  edgeDomainOf,
  wafOf,
  sdkBuild,
  readSdkBuild,
  sriOf,
};
