'use strict';
/**
 * Local serverless plugin: sets the values listed in custom.cfnOverrides in the compiled template,
 * keyed by a dotted path (`LogicalId.Properties.A.B`). It exists for values that must become
 * CloudFormation conditions on AWS but that the local Firehose stand-in reads as plain YAML from
 * resources.Resources (local/serverless-config.ts evaluates no conditions). resources.extensions
 * cannot do it: it replaces top-level Properties shallowly, so a nested key would drop its siblings.
 * A path whose parent is missing fails the package, so a renamed resource cannot be skipped silently.
 */
class CfnOverridesPlugin {
  constructor(serverless) {
    this.hooks = {
      // Resources from serverless.yml are merged into the compiled template during
      // package:finalize, so edit them in service.resources before that.
      'before:package:finalize': () =>
        applyOverrides(serverless.service.resources?.Resources ?? {}, serverless.service.custom?.cfnOverrides ?? {}),
    };
  }
}

/** Sets each `path -> value` of `overrides` in `resources`; throws when a path's parent is absent. */
function applyOverrides(resources, overrides) {
  for (const [path, value] of Object.entries(overrides)) {
    const keys = path.split('.');
    const last = keys.pop();
    let node = resources;
    for (const k of keys) {
      node = node !== null && typeof node === 'object' && Object.hasOwn(node, k) ? node[k] : undefined;
      if (node === undefined) throw new Error(`custom.cfnOverrides: ${path}: ${k} not found in resources.Resources`);
    }
    if (!Object.hasOwn(node, last))
      throw new Error(`custom.cfnOverrides: ${path}: ${last} not set in resources.Resources (override existing values only)`);
    node[last] = value;
  }
}

module.exports = CfnOverridesPlugin;
module.exports.applyOverrides = applyOverrides;
