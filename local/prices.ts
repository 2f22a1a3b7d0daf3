/**
 * Every list price the cost model uses, in one place, with where and when it was read.
 * Region us-east-1, on-demand, first pricing tier, no free tier, no Savings Plans, USD.
 * Sources: aws.amazon.com/{api-gateway,lambda,firehose,s3,athena,cloudwatch,secrets-manager}/pricing,
 * cross-checked on PRICES_CHECKED against the AWS whitepaper "Best Practices for Designing Amazon API
 * Gateway Private APIs" (cost optimization table) and third-party summaries. When AWS changes a
 * price, edit it here and re-run `npm run cost`; nothing else holds a price.
 */

export const PRICES_CHECKED = '2026-11-23';
export const PRICES_REGION = 'us-east-1';

export const PRICES = {
  apiGateway: {
    /** HTTP API, first 300 M requests/month; metered in 512 KB increments. */
    httpPerMillion: 1.0,
    httpMeterBytes: 512 * 1024,
    /** REST API, first 333 M requests/month (the course lab's design). */
    restPerMillion: 3.5,
  },
  lambda: {
    requestPerMillion: 0.2,
    /** Duration, first tier (6 B GB-s x86, 7.5 B GB-s Arm); billed in 1 ms steps. */
    gbSecond: { arm64: 0.0000133334, x86: 0.0000166667 },
  },
  firehose: {
    /** Direct PUT ingestion, first 500 TB/month; every record is rounded up to a 5 KB multiple. */
    perGB: 0.029,
    recordRoundingBytes: 5 * 1024,
  },
  s3: {
    /** S3 Standard PUT/COPY/POST/LIST. */
    putPerThousand: 0.005,
    /** S3 Standard, first 50 TB/month. */
    standardGBMonth: 0.023,
    /** Standard-IA (serverless.yml moves raw data there after 30 days). */
    standardIaGBMonth: 0.0125,
  },
  athena: {
    /** SQL queries, per TB scanned (compressed bytes read), 10 MB minimum per query. */
    perTB: 5.0,
    minBytesPerQuery: 10 * 1024 * 1024,
  },
  /** The compaction's state machine (issue 13). Standard workflows; read 2026-12-03 on aws.amazon.com/step-functions/pricing (4,000 free a month not counted). */
  stepFunctions: {
    perThousandTransitions: 0.025,
  },
  cloudwatch: {
    /** Logs ingestion (Standard class). */
    logsIngestPerGB: 0.5,
    /** Custom metrics (first 10,000), per metric per month; EMF metrics count the same. */
    metricMonth: 0.3,
    /** Standard-resolution alarm, per alarm per month. */
    alarmMonth: 0.1,
  },
  /**
   * The edge (serverless.yml EdgeDistribution), United States / Europe edges, first tier. Read on
   * 2026-12-03: aws.amazon.com/cloudfront/pricing (data transfer out, the always-free tier); the HTTPS
   * request price from the same page as quoted by wring.co "AWS CloudFront Pricing 2026" (the stored
   * copy of AWS's page stops before its request table). Origin fetches from AWS origins are free (same
   * page), so only the POST bodies CloudFront sends to the API ("Regional Data Transfer Out to Origin")
   * are billed towards the origin: that rate was not on any page read, so toOriginPerGB is AWS's long-
   * standing US/Europe figure, unconfirmed here (it is ~1 % of the edge's per-million figure).
   */
  cloudfront: {
    /** HTTPS requests of every method, per 10,000. */
    httpsPer10k: 0.01,
    /** Regional data transfer out to internet, first 10 TB/month. */
    outPerGB: 0.085,
    /** Regional data transfer out to origin (request bodies of POST). Unconfirmed: see above. */
    toOriginPerGB: 0.02,
    /** Always-free tier, every month: 10,000,000 HTTP/HTTPS requests and 1 TB out to the internet. */
    freeRequests: 10_000_000,
    freeOutBytes: 1024 ** 4,
  },
  /**
   * AWS WAF, only with edgeWafRateLimit set (off by default): per web ACL and per rule a month, and
   * per million requests inspected (pricing is the same in every Region: AWS Networking & Content
   * Delivery blog, "Cost-effective ways for securing your web applications using AWS WAF"; figures as
   * aws.amazon.com/waf/pricing lists them, read through c3x.dev "AWS WAF cost explained", 2026-12-03).
   */
  waf: {
    webAclMonth: 5,
    ruleMonth: 1,
    perMillionRequests: 0.6,
  },
  secretsManager: {
    /** Per secret per month (the visitor-hash salt secret). */
    secretMonth: 0.4,
  },
} as const;

/** Bytes per GB as AWS bills storage and transfer (GiB: 2^30). */
export const GB = 1024 ** 3;
/** Bytes per TB as Athena bills scanned data (TiB: 2^40). */
export const TB = 1024 ** 4;
