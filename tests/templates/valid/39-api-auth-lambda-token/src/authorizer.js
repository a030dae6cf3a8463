exports.handler = async (event) => {
  const allow = event.authorizationToken === 'Bearer allow';
  return {
    principalId: 'user-1',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: allow ? 'Allow' : 'Deny', Resource: event.methodArn }],
    },
    context: { tenant: 'acme' },
  };
};
