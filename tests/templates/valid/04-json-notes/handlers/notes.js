exports.list = async () => ({ statusCode: 200, body: '[]' });
exports.create = async () => ({ statusCode: 201, body: '{}' });
