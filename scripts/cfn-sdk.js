'use strict';
/**
 * Local serverless plugin: fills `Files` of every Custom::SdkUpload resource with the built SDK
 * (client-sdk/dist, through scripts/cfn-edge.js sdkBuild: name, bytes, content type, caching and SRI
 * hash), so the deploy itself uploads what the SdkSnippet output names. The bytes travel in the
 * template rather than through a serverless.yml variable: minified code holds `${`, which the
 * framework would take for a variable. A new build changes the property, so CloudFormation re-runs
 * the upload on exactly the deploys that change the SDK.
 */
const { sdkBuild } = require('./cfn-edge');

class SdkPlugin {
  constructor(serverless) {
    this.hooks = {
      // As in cfn-views.js: serverless.yml resources are merged during package:finalize.
      'before:package:finalize': () => {
        const resources = serverless.service.resources?.Resources ?? {};
        for (const r of Object.values(resources)) {
          if (r.Type !== 'Custom::SdkUpload') continue;
          r.Properties.Files = sdkBuild().files.map(({ Key, Body, ContentType, CacheControl, Integrity }) => ({
            Key,
            Body,
            ContentType,
            CacheControl,
            Integrity,
          }));
        }
      },
    };
  }
}

module.exports = SdkPlugin;
