const x = require('x');
exports.handler = async () => x;
