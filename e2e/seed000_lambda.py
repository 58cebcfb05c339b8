"""seed000_lambda.py is seed 000's Lambda function, unchanged, plus a runner
that invokes its handler once and prints the result. Run it with the seed's
environment (DBCLUSTER_ARN, DBNAME, DBTABLE, REGION, SECRET_ARN),
AWS_ENDPOINT_URL, and credentials from the default chain: for the keyless
setup only AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN (docs/iam.md, "Connecting a function
without keys")."""

# --- seed 000's function code, verbatim ---
import boto3
import json
import os

dbcluster_arn = os.environ['DBCLUSTER_ARN']
dbname = os.environ['DBNAME']
dbtable = os.environ['DBTABLE']
region = os.environ['REGION']
secret_arn = os.environ['SECRET_ARN']

sql = 'select * from {table};'.format(table=dbtable)

client = boto3.client('rds-data', region_name=region)

def lambda_handler(event, context):
    response = client.execute_statement(
        database=dbname,
        resourceArn=dbcluster_arn,
        schema='mysql',
        secretArn=secret_arn,
        sql=sql
    )
    return {
        'statusCode': 200,
        'body': json.dumps(response, indent=2)
    }
# --- end of the seed's code ---

if __name__ == "__main__":
    print(json.dumps(lambda_handler({}, None)))
