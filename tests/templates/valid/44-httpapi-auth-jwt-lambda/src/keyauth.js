exports.handler = async (event) => ({
  isAuthorized: event.headers['x-api-key'] === 'local-secret',
  context: { caller: 'webhook' },
});
