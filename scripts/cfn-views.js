'use strict';
/**
 * Local serverless plugin: sets `Fingerprint` on every Custom::AthenaViews resource (and the same on
 * Custom::CompactionSeam, which follows the views), a hash of the
 * view SQL and of the Glue tables as packaged (scripts/cfn-athena.js viewsFingerprint). A custom
 * resource is re-run only when its properties change, so this makes CloudFormation re-create the
 * views on exactly the deploys that change a view or a table, and on no other.
 */
const { viewsFingerprint } = require('./cfn-athena');

class ViewsPlugin {
  constructor(serverless) {
    this.hooks = {
      // Like cfn-overrides.js: serverless.yml resources are merged into the compiled template during
      // package:finalize, so they are complete (variables resolved) and still editable before it.
      'before:package:finalize': () => {
        const { Resources: resources = {}, Conditions: conditions } = serverless.service.resources ?? {};
        let fingerprint;
        for (const r of Object.values(resources)) {
          if (r.Type !== 'Custom::AthenaViews') continue;
          fingerprint = r.Properties.Fingerprint = viewsFingerprint(resources, conditions, r.Properties.Views);
        }
        // The seam run follows the views: re-run on exactly the deploys that re-create them.
        for (const r of Object.values(resources)) if (r.Type === 'Custom::CompactionSeam') r.Properties.Fingerprint = fingerprint;
      },
    };
  }
}

module.exports = ViewsPlugin;
