// Hot reload of installed packages: `dep` is written into node_modules by the test.
exports.handler = async () => ({ version: require('dep').version, pid: process.pid });
