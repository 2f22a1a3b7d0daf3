'use strict';
/**
 * Local serverless plugin: adds one AWS::Athena::NamedQuery per athena-queries file to the
 * compiled template (see scripts/cfn-athena.js for why this is a plugin and not a variable).
 */
const { namedQueryResources } = require('./cfn-athena');

class NamedQueriesPlugin {
  constructor(serverless) {
    this.hooks = {
      'before:package:finalize': () => {
        const template = serverless.service.provider.compiledCloudFormationTemplate;
        Object.assign(
          template.Resources,
          namedQueryResources({
            database: { Ref: 'GlueDatabase' },
            workGroup: { Ref: 'AthenaWorkGroup' },
          }),
        );
      },
    };
  }
}

module.exports = NamedQueriesPlugin;
