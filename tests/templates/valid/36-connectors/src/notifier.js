exports.handler = async () => ({ sent: true });
