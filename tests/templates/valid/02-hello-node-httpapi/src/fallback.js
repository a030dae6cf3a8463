exports.handler = async () => ({ statusCode: 404, body: JSON.stringify({ message: 'not found' }) });
