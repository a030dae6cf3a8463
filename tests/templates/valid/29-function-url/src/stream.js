exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write('hello ');
  responseStream.end('stream');
});
