exports.handler = async (event) => {
  const name = (event.pathParameters && event.pathParameters.name) || 'world';
  return { statusCode: 200, body: JSON.stringify({ message: `hello ${name}` }) };
};
