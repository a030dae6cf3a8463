const { greet } = require('greeting');
exports.handler = async (event) => ({ message: greet(process.env.GREETING, event.name || 'world') });
