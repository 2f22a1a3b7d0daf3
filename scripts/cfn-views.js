'use strict';
/**
 * Local serverless plugin: sets `Fingerprint` on every Custom::AthenaViews resource, a hash of the
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
        for (const r of Object.values(resources)) {
          if (r.Type !== 'Custom::AthenaViews') continue;
          r.Properties.Fingerprint = viewsFingerprint(resources, conditions, r.Properties.Views);
        }
      },
    };
  }
}

module.exports = ViewsPlugin;
