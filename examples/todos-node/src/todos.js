// Todos on an HTTP API: one handler routes on the event's routeKey.
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const TableName = process.env.TODOS_TABLE;

const json = (statusCode, body) => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

function parse(body) {
  try {
    const data = JSON.parse(body || "{}");
    return data && typeof data === "object" ? data : null;
  } catch {
    return null;
  }
}

export const handler = async (event) => {
  switch (event.routeKey) {
    case "GET /todos": {
      const { Items = [] } = await documents.send(new ScanCommand({ TableName }));
      Items.sort((a, b) => a.created - b.created);
      return json(200, { todos: Items });
    }
    case "POST /todos": {
      const data = parse(event.body);
      if (!data || !data.text) return json(400, { message: "a todo needs a text" });
      const todo = { id: randomUUID(), text: String(data.text), done: false, created: Date.now() };
      await documents.send(new PutCommand({ TableName, Item: todo }));
      return json(201, todo);
    }
    case "PATCH /todos/{id}": {
      const data = parse(event.body);
      if (!data || typeof data.done !== "boolean") return json(400, { message: "send {\"done\": true|false}" });
      try {
        const { Attributes } = await documents.send(new UpdateCommand({
          TableName,
          Key: { id: event.pathParameters.id },
          UpdateExpression: "SET done = :done",
          ConditionExpression: "attribute_exists(id)",
          ExpressionAttributeValues: { ":done": data.done },
          ReturnValues: "ALL_NEW",
        }));
        return json(200, Attributes);
      } catch (error) {
        if (error.name === "ConditionalCheckFailedException") return json(404, { message: "no such todo" });
        throw error;
      }
    }
    case "DELETE /todos/{id}": {
      await documents.send(new DeleteCommand({ TableName, Key: { id: event.pathParameters.id } }));
      return { statusCode: 204 };
    }
    default:
      return json(404, { message: "Not Found" });
  }
};
