exports.handler = async (event) => ({ statusCode: 202, body: JSON.stringify({ queued: true }) });
