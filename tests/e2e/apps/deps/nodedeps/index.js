// CommonJS handler using a dependency from package.json.
const dep = require('e2e-node-dep');

exports.handler = async () => ({ version: dep.version, file: require.resolve('e2e-node-dep') });
