'use strict';
/**
 * esbuild plugins for the Lambda bundle (serverless.yml custom.esbuild.plugins; bench/coldstart.ts
 * applies the same file so its figure stays the bundle that ships).
 *
 * Why: the Firehose client's runtime config imports `@aws-sdk/credential-provider-node` statically
 * for its default credential chain (env, SSO, ini, process, web identity, ECS/IMDS, login). That
 * chain pulls in `@aws-sdk/nested-clients` (STS/SSO/OIDC/signin clients, their Query/XML protocols)
 * and the IMDS provider: about a third of the bundle. A CommonJS bundle keeps a static import even
 * when `credentials` is passed, so esbuild cannot drop it on its own (checked with a metafile).
 * On Lambda the credentials are always the env vars the runtime sets, and
 * handlers/clients/firehose.ts passes them explicitly with `fromEnv()`, so the chain is never
 * called. The stub below makes that a loud failure rather than a silent one if it ever is.
 */

const STUBBED = /^@aws-sdk\/credential-provider-node$/;

// Only defaultProvider: a new import of anything else from the chain fails the build, not a request.
const STUB_SOURCE = `
const message = 'The Lambda bundle replaces @aws-sdk/credential-provider-node with a stub ' +
  '(scripts/esbuild-plugins.js): pass credentials explicitly (handlers/clients/firehose.ts uses fromEnv()).';
export const defaultProvider = () => async () => { throw new Error(message); };
`;

/** Replaces the default AWS credential provider chain with a stub that throws when called. */
const stubCredentialChain = {
  name: 'stub-aws-credential-provider-node',
  setup(build) {
    build.onResolve({ filter: STUBBED }, (args) => ({ path: args.path, namespace: 'lambda-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'lambda-stub' }, () => ({ contents: STUB_SOURCE, loader: 'js', resolveDir: __dirname }));
  },
};

/**
 * Leaves out @smithy/core's event-stream serde. The SDK loads it with a dynamic import only for
 * operations that stream events; PutRecordBatch does not (Firehose has none), yet esbuild bundles
 * every dynamic import with a literal path (about 15 KB). Static imports of it are left alone.
 */
const stubEventStreams = {
  name: 'stub-smithy-event-streams',
  setup(build) {
    build.onResolve({ filter: /^@smithy\/core\/event-streams$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, namespace: 'lambda-stub-event-streams' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lambda-stub-event-streams' }, () => ({
      contents: `throw new Error('The Lambda bundle leaves out @smithy/core/event-streams (scripts/esbuild-plugins.js): ' +
        'an operation with an event stream needs it removed from the stubs.');`,
      loader: 'js',
    }));
  },
};

module.exports = [stubCredentialChain, stubEventStreams];
