// The AWS SDK for JavaScript v3 inside a function (provided by Lambda's Node.js runtime; the
// code folder bundles nothing). The client finds Stratus through AWS_ENDPOINT_URL.
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';

const client = new DynamoDBClient({});

export const handler = async (event, context) => {
  const table = process.env.TABLE_NAME;
  const key = { pk: { S: event.pk } };
  await client.send(new PutItemCommand({
    TableName: table,
    Item: { ...key, written_by: { S: context.functionName }, value: { N: String(event.value) } },
  }));
  const got = await client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
  return {
    table,
    item: { pk: got.Item.pk.S, written_by: got.Item.written_by.S, value: got.Item.value.N },
  };
};
