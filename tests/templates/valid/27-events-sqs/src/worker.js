exports.handler = async (event) => ({ batchItemFailures: [] });
