// seed001.mjs is seed 001's Lambda handler verbatim, configured only through
// the environment as a Lambda would be (AWS_REGION, CLUSTER_ARN, SECRET_ARN,
// the credentials) plus AWS_ENDPOINT_URL pointing at sqlgate. It runs the
// handler once and compares its result with the seed's documented output.
// Prints "PASS name" / "FAIL name: detail"; exits 1 on failure.
import { RDSDataClient, ExecuteStatementCommand } from "@aws-sdk/client-rds-data";

// ---- seed 001, unchanged ----
const client = new RDSDataClient({ region: process.env.AWS_REGION });

const DATABASE_NAME = "simple_db";
const CLUSTER_ARN = process.env.CLUSTER_ARN;
const SECRET_ARN = process.env.SECRET_ARN;

export const handler = async () => {
    try {
        const command = new ExecuteStatementCommand({
            resourceArn: CLUSTER_ARN,
            secretArn: SECRET_ARN,
            database: DATABASE_NAME,
            sql: "SELECT * FROM users;"
        });

        const response = await client.send(command);

        return {
            statusCode: 200,
            body: JSON.stringify(response.records)
        };
    } catch (error) {
        console.error("Error executing query:", error);
        return {
            statusCode: 500,
            body: JSON.stringify({ error: "Failed to fetch data" })
        };
    }
};
// ---- end of seed 001 ----

const name = "d.seed001-handler-via-AWS_ENDPOINT_URL";
if (!process.env.AWS_ENDPOINT_URL) {
  console.log(`FAIL ${name}: AWS_ENDPOINT_URL is not set`);
  process.exit(1);
}
const got = await handler();
const want = {
  statusCode: 200,
  body: "[[{\"longValue\":1},{\"stringValue\":\"Alice\"}],[{\"longValue\":2},{\"stringValue\":\"Bob\"}],[{\"longValue\":3},{\"stringValue\":\"Charlie\"}]]",
};
if (JSON.stringify(got) === JSON.stringify(want)) {
  console.log(`PASS ${name}`);
} else {
  console.log(`FAIL ${name}: got ${JSON.stringify(got)}`);
  process.exitCode = 1;
}
