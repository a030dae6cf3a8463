module.exports.create = async (event) => ({ statusCode: 201, body: event.body || '{}' });
