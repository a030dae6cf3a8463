//! IAM permissions of a function: SAM policy templates, AWS managed policies and inline
//! statements, expanded into policy documents with the template's local values.
//!
//! The tables here are written from the SAM policy-template definitions and AWS's managed-policy
//! documents. Templates outside `TEMPLATES` are recognised by name and reported as not expanded.

use serde_json::{Value as Json, json};

use crate::diagnostic::Diagnostic;
use crate::eval::Pseudo;
use crate::node::Location;

/// One policy of a function's role.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Where it comes from, e.g. `DynamoDBCrudPolicy`, `managed AWSLambdaBasicExecutionRole`,
    /// `inline Policy2`, `role MyRole / inline Access`.
    pub source: String,
    /// The policy document (`{"Version": ..., "Statement": [...]}`); `None` when Stratus does not
    /// know the managed policy's document.
    pub document: Option<Json>,
    /// The managed policy's ARN, for managed policies.
    pub arn: Option<String>,
}

/// A statement of a policy template: actions and resource patterns. In patterns,
/// `{partition}`, `{region}`, `{account}` are pseudo parameters and `{Name}` a template parameter.
struct StatementTemplate {
    actions: &'static [&'static str],
    resources: &'static [&'static str],
}

struct PolicyTemplate {
    name: &'static str,
    parameters: &'static [&'static str],
    statements: &'static [StatementTemplate],
}

const DYNAMODB_TABLE: &str = "arn:{partition}:dynamodb:{region}:{account}:table/{TableName}";
const DYNAMODB_INDEXES: &str = "arn:{partition}:dynamodb:{region}:{account}:table/{TableName}/index/*";
const S3_BUCKET: &str = "arn:{partition}:s3:::{BucketName}";
const S3_OBJECTS: &str = "arn:{partition}:s3:::{BucketName}/*";

const TEMPLATES: &[PolicyTemplate] = &[
    PolicyTemplate {
        name: "DynamoDBCrudPolicy",
        parameters: &["TableName"],
        statements: &[StatementTemplate {
            actions: &[
                "dynamodb:GetItem",
                "dynamodb:DeleteItem",
                "dynamodb:PutItem",
                "dynamodb:Scan",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:BatchGetItem",
                "dynamodb:DescribeTable",
                "dynamodb:ConditionCheckItem",
            ],
            resources: &[DYNAMODB_TABLE, DYNAMODB_INDEXES],
        }],
    },
    PolicyTemplate {
        name: "DynamoDBReadPolicy",
        parameters: &["TableName"],
        statements: &[StatementTemplate {
            actions: &[
                "dynamodb:GetItem",
                "dynamodb:Scan",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
                "dynamodb:DescribeTable",
            ],
            resources: &[DYNAMODB_TABLE, DYNAMODB_INDEXES],
        }],
    },
    PolicyTemplate {
        name: "DynamoDBWritePolicy",
        parameters: &["TableName"],
        statements: &[StatementTemplate {
            actions: &["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"],
            resources: &[DYNAMODB_TABLE, DYNAMODB_INDEXES],
        }],
    },
    PolicyTemplate {
        name: "DynamoDBStreamReadPolicy",
        parameters: &["TableName", "StreamName"],
        statements: &[
            StatementTemplate {
                actions: &[
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                ],
                resources: &["arn:{partition}:dynamodb:{region}:{account}:table/{TableName}/stream/{StreamName}"],
            },
            StatementTemplate {
                actions: &["dynamodb:ListStreams"],
                resources: &["arn:{partition}:dynamodb:{region}:{account}:table/{TableName}/stream/*"],
            },
        ],
    },
    PolicyTemplate {
        name: "DynamoDBBackupFullAccessPolicy",
        parameters: &["TableName"],
        statements: &[
            StatementTemplate {
                actions: &["dynamodb:CreateBackup", "dynamodb:DescribeContinuousBackups"],
                resources: &[DYNAMODB_TABLE],
            },
            StatementTemplate {
                actions: &[
                    "dynamodb:DeleteBackup",
                    "dynamodb:DescribeBackup",
                    "dynamodb:ListBackups",
                ],
                resources: &["arn:{partition}:dynamodb:{region}:{account}:table/{TableName}/backup/*"],
            },
        ],
    },
    PolicyTemplate {
        name: "S3ReadPolicy",
        parameters: &["BucketName"],
        statements: &[StatementTemplate {
            actions: &[
                "s3:GetObject",
                "s3:ListBucket",
                "s3:GetBucketLocation",
                "s3:GetObjectVersion",
                "s3:GetLifecycleConfiguration",
            ],
            resources: &[S3_BUCKET, S3_OBJECTS],
        }],
    },
    PolicyTemplate {
        name: "S3WritePolicy",
        parameters: &["BucketName"],
        statements: &[StatementTemplate {
            actions: &["s3:PutObject", "s3:PutObjectAcl", "s3:PutLifecycleConfiguration"],
            resources: &[S3_BUCKET, S3_OBJECTS],
        }],
    },
    PolicyTemplate {
        name: "S3CrudPolicy",
        parameters: &["BucketName"],
        statements: &[StatementTemplate {
            actions: &[
                "s3:GetObject",
                "s3:ListBucket",
                "s3:GetBucketLocation",
                "s3:GetObjectVersion",
                "s3:PutObject",
                "s3:PutObjectAcl",
                "s3:GetLifecycleConfiguration",
                "s3:PutLifecycleConfiguration",
                "s3:DeleteObject",
            ],
            resources: &[S3_BUCKET, S3_OBJECTS],
        }],
    },
    PolicyTemplate {
        name: "SQSSendMessagePolicy",
        parameters: &["QueueName"],
        statements: &[StatementTemplate {
            actions: &["sqs:SendMessage*"],
            resources: &["arn:{partition}:sqs:{region}:{account}:{QueueName}"],
        }],
    },
    PolicyTemplate {
        name: "SQSPollerPolicy",
        parameters: &["QueueName"],
        statements: &[StatementTemplate {
            actions: &[
                "sqs:ChangeMessageVisibility",
                "sqs:ChangeMessageVisibilityBatch",
                "sqs:DeleteMessage",
                "sqs:DeleteMessageBatch",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
            ],
            resources: &["arn:{partition}:sqs:{region}:{account}:{QueueName}"],
        }],
    },
    PolicyTemplate {
        name: "SNSPublishMessagePolicy",
        parameters: &["TopicName"],
        statements: &[StatementTemplate {
            actions: &["sns:Publish"],
            resources: &["arn:{partition}:sns:{region}:{account}:{TopicName}"],
        }],
    },
    PolicyTemplate {
        name: "LambdaInvokePolicy",
        parameters: &["FunctionName"],
        statements: &[StatementTemplate {
            actions: &["lambda:InvokeFunction"],
            resources: &["arn:{partition}:lambda:{region}:{account}:function:{FunctionName}*"],
        }],
    },
    PolicyTemplate {
        name: "CloudWatchPutMetricPolicy",
        parameters: &[],
        statements: &[StatementTemplate {
            actions: &["cloudwatch:PutMetricData"],
            resources: &["*"],
        }],
    },
    PolicyTemplate {
        name: "SSMParameterReadPolicy",
        parameters: &["ParameterName"],
        statements: &[
            StatementTemplate {
                actions: &["ssm:DescribeParameters"],
                resources: &["*"],
            },
            StatementTemplate {
                actions: &["ssm:GetParameters", "ssm:GetParameter", "ssm:GetParametersByPath"],
                resources: &["arn:{partition}:ssm:{region}:{account}:parameter/{ParameterName}"],
            },
        ],
    },
    PolicyTemplate {
        name: "AWSSecretsManagerGetSecretValuePolicy",
        parameters: &["SecretArn"],
        statements: &[StatementTemplate {
            actions: &["secretsmanager:GetSecretValue"],
            resources: &["{SecretArn}"],
        }],
    },
    PolicyTemplate {
        name: "EventBridgePutEventsPolicy",
        parameters: &["EventBusName"],
        statements: &[StatementTemplate {
            actions: &["events:PutEvents"],
            resources: &["arn:{partition}:events:{region}:{account}:event-bus/{EventBusName}"],
        }],
    },
    PolicyTemplate {
        name: "StepFunctionsExecutionPolicy",
        parameters: &["StateMachineName"],
        statements: &[StatementTemplate {
            actions: &["states:StartExecution"],
            resources: &["arn:{partition}:states:{region}:{account}:stateMachine:{StateMachineName}"],
        }],
    },
    PolicyTemplate {
        name: "KMSDecryptPolicy",
        parameters: &["KeyId"],
        statements: &[StatementTemplate {
            actions: &["kms:Decrypt"],
            resources: &["arn:{partition}:kms:{region}:{account}:key/{KeyId}"],
        }],
    },
];

/// Every SAM policy template name (those above are expanded; the rest are recognised).
const ALL_TEMPLATE_NAMES: &[&str] = &[
    "AMIDescribePolicy",
    "AWSSecretsManagerGetSecretValuePolicy",
    "AWSSecretsManagerRotationPolicy",
    "AcmGetCertificatePolicy",
    "AthenaQueryPolicy",
    "CloudFormationDescribeStacksPolicy",
    "CloudWatchDashboardPolicy",
    "CloudWatchDescribeAlarmHistoryPolicy",
    "CloudWatchPutMetricPolicy",
    "CodeCommitCrudPolicy",
    "CodeCommitReadPolicy",
    "CodePipelineLambdaExecutionPolicy",
    "CodePipelineReadOnlyPolicy",
    "ComprehendBasicAccessPolicy",
    "CostExplorerReadOnlyPolicy",
    "DynamoDBBackupFullAccessPolicy",
    "DynamoDBCrudPolicy",
    "DynamoDBReadPolicy",
    "DynamoDBReconfigurePolicy",
    "DynamoDBRestoreFromBackupPolicy",
    "DynamoDBStreamReadPolicy",
    "DynamoDBWritePolicy",
    "EC2CopyImagePolicy",
    "EC2DescribePolicy",
    "EFSWriteAccessPolicy",
    "EKSDescribePolicy",
    "EcsRunTaskPolicy",
    "ElasticMapReduceAddJobFlowStepsPolicy",
    "ElasticMapReduceCancelStepsPolicy",
    "ElasticMapReduceModifyInstanceFleetPolicy",
    "ElasticMapReduceModifyInstanceGroupsPolicy",
    "ElasticMapReduceSetTerminationProtectionPolicy",
    "ElasticMapReduceTerminateJobFlowsPolicy",
    "ElasticsearchHttpPostPolicy",
    "EventBridgePutEventsPolicy",
    "FilterLogEventsPolicy",
    "FirehoseCrudPolicy",
    "FirehoseWritePolicy",
    "KMSDecryptPolicy",
    "KMSEncryptPolicy",
    "KMSEncryptPolicy_v2",
    "KinesisCrudPolicy",
    "KinesisStreamReadPolicy",
    "LambdaInvokePolicy",
    "MobileAnalyticsWriteOnlyAccessPolicy",
    "OrganizationsListAccountsPolicy",
    "PinpointEndpointAccessPolicy",
    "PollyFullAccessPolicy",
    "RekognitionDetectOnlyPolicy",
    "RekognitionFacesManagementPolicy",
    "RekognitionFacesPolicy",
    "RekognitionLabelsPolicy",
    "RekognitionNoDataAccessPolicy",
    "RekognitionReadPolicy",
    "RekognitionWriteOnlyAccessPolicy",
    "Route53ChangeResourceRecordSetsPolicy",
    "S3CrudPolicy",
    "S3FullAccessPolicy",
    "S3ReadPolicy",
    "S3WritePolicy",
    "SESBulkTemplatedCrudPolicy",
    "SESBulkTemplatedCrudPolicy_v2",
    "SESCrudPolicy",
    "SESEmailTemplateCrudPolicy",
    "SESSendBouncePolicy",
    "SNSCrudPolicy",
    "SNSPublishMessagePolicy",
    "SQSPollerPolicy",
    "SQSSendMessagePolicy",
    "SSMParameterReadPolicy",
    "SSMParameterWithSlashPrefixReadPolicy",
    "SageMakerCreateEndpointConfigPolicy",
    "SageMakerCreateEndpointPolicy",
    "ServerlessRepoReadWriteAccessPolicy",
    "StepFunctionsCallbackPolicy",
    "StepFunctionsExecutionPolicy",
    "StepFunctionsExecutionPolicy_v2",
    "TextractDetectAnalyzePolicy",
    "TextractGetResultPolicy",
    "TextractPolicy",
    "VPCAccessPolicy",
];

const LOGS: &[&str] = &["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"];

/// AWS managed policies whose documents Stratus knows: (name, under `service-role/`, statements).
fn managed_document(name: &str) -> Option<Json> {
    let statement =
        |actions: &[&str], resource: &str| json!({"Effect": "Allow", "Action": actions, "Resource": resource});
    let statements = match name {
        "AWSLambdaBasicExecutionRole" => vec![statement(LOGS, "*")],
        "AWSLambdaDynamoDBExecutionRole" => vec![
            statement(
                &[
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                ],
                "*",
            ),
            statement(LOGS, "*"),
        ],
        "AWSLambdaSQSQueueExecutionRole" => vec![
            statement(
                &["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "*",
            ),
            statement(LOGS, "*"),
        ],
        "AWSLambdaRole" => vec![statement(&["lambda:InvokeFunction"], "*")],
        "AmazonDynamoDBFullAccess" => vec![statement(&["dynamodb:*"], "*")],
        "AmazonDynamoDBReadOnlyAccess" => vec![statement(
            &[
                "dynamodb:BatchGetItem",
                "dynamodb:Describe*",
                "dynamodb:List*",
                "dynamodb:GetItem",
                "dynamodb:GetResourcePolicy",
                "dynamodb:Query",
                "dynamodb:Scan",
                "dynamodb:PartiQLSelect",
            ],
            "*",
        )],
        "AmazonS3FullAccess" => vec![statement(&["s3:*", "s3-object-lambda:*"], "*")],
        "AmazonS3ReadOnlyAccess" => vec![statement(
            &[
                "s3:Get*",
                "s3:List*",
                "s3:Describe*",
                "s3-object-lambda:Get*",
                "s3-object-lambda:List*",
            ],
            "*",
        )],
        "AWSXRayDaemonWriteAccess" => vec![statement(
            &[
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "*",
        )],
        _ => return None,
    };
    Some(json!({"Version": "2012-10-17", "Statement": statements}))
}

/// Managed policies that live under `policy/service-role/`.
const SERVICE_ROLE_POLICIES: &[&str] = &[
    "AWSLambdaBasicExecutionRole",
    "AWSLambdaDynamoDBExecutionRole",
    "AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaVPCAccessExecutionRole",
    "AWSLambdaRole",
    "AWSLambdaKinesisExecutionRole",
    "AWSLambdaMSKExecutionRole",
];

/// A managed policy by name or ARN.
pub fn managed(name_or_arn: &str, pseudo: &Pseudo) -> Policy {
    let name = name_or_arn.rsplit('/').next().unwrap_or(name_or_arn).to_string();
    let arn = if name_or_arn.starts_with("arn:") {
        name_or_arn.to_string()
    } else if SERVICE_ROLE_POLICIES.contains(&name.as_str()) {
        format!("arn:{}:iam::aws:policy/service-role/{name}", pseudo.partition)
    } else {
        format!("arn:{}:iam::aws:policy/{name}", pseudo.partition)
    };
    let is_aws_managed = arn.contains(":iam::aws:policy/");
    Policy {
        source: format!("managed {name}"),
        document: if is_aws_managed { managed_document(&name) } else { None },
        arn: Some(arn),
    }
}

/// Expands a SAM policy template with its (already evaluated) parameters.
pub fn expand_template(
    name: &str,
    parameters: &Json,
    pseudo: &Pseudo,
    location: &Location,
) -> Result<Option<Policy>, Diagnostic> {
    let Some(template) = TEMPLATES.iter().find(|t| t.name == name) else {
        if ALL_TEMPLATE_NAMES.contains(&name) {
            return Ok(None);
        }
        let lower = name.to_ascii_lowercase();
        let close: Vec<&str> = ALL_TEMPLATE_NAMES
            .iter()
            .filter(|candidate| {
                let c = candidate.to_ascii_lowercase();
                c.get(..6).is_some_and(|prefix| lower.starts_with(prefix))
            })
            .take(4)
            .copied()
            .collect();
        let mut error = Diagnostic::error(location, format!("unknown policy template {name}"));
        error = if close.is_empty() {
            error.with_hint("SAM policy templates are listed in the SAM documentation; AWS managed policies are written as plain strings")
        } else {
            error.with_hint(format!(
                "did you mean {}? (AWS managed policies are written as plain strings)",
                close.join(", ")
            ))
        };
        return Err(error);
    };
    let given: Vec<String> = parameters
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    for parameter in template.parameters {
        if !given.iter().any(|g| g == parameter) {
            let extra = given.iter().find(|g| !template.parameters.contains(&g.as_str()));
            let message = match extra {
                Some(extra) => format!("{name} needs parameter {parameter}; {extra} is not one of its parameters"),
                None => format!("{name} needs parameter {parameter}"),
            };
            return Err(Diagnostic::error(location, message).with_hint(format!("write `{name}: {{{parameter}: ...}}`")));
        }
    }
    let statements: Vec<Json> = template
        .statements
        .iter()
        .map(|statement| {
            let resources: Vec<String> = statement
                .resources
                .iter()
                .map(|pattern| {
                    let mut resource = pattern
                        .replace("{partition}", &pseudo.partition)
                        .replace("{region}", &pseudo.region)
                        .replace("{account}", &pseudo.account);
                    for parameter in template.parameters {
                        let value = match parameters.get(parameter) {
                            Some(Json::String(s)) => s.clone(),
                            Some(other) => other.to_string(),
                            None => String::new(),
                        };
                        resource = resource.replace(&format!("{{{parameter}}}"), &value);
                    }
                    resource
                })
                .collect();
            json!({"Effect": "Allow", "Action": statement.actions, "Resource": resources})
        })
        .collect();
    Ok(Some(Policy {
        source: name.to_string(),
        document: Some(json!({"Version": "2012-10-17", "Statement": statements})),
        arn: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo() -> Pseudo {
        Pseudo::local("us-east-1", "000000000000", "stack")
    }

    #[test]
    fn crud_policy_expands_to_table_and_indexes() {
        let location = Location::unknown(std::path::Path::new("t.yaml"));
        let policy = expand_template(
            "DynamoDBCrudPolicy",
            &json!({"TableName": "Books"}),
            &pseudo(),
            &location,
        )
        .expect("ok")
        .expect("expanded");
        let document = policy.document.expect("document");
        assert_eq!(
            document["Statement"][0]["Resource"],
            json!([
                "arn:aws:dynamodb:us-east-1:000000000000:table/Books",
                "arn:aws:dynamodb:us-east-1:000000000000:table/Books/index/*"
            ])
        );
        assert_eq!(document["Statement"][0]["Action"][0], json!("dynamodb:GetItem"));
    }

    #[test]
    fn wrong_parameters_and_unknown_templates_are_errors() {
        let location = Location::unknown(std::path::Path::new("t.yaml"));
        let error = expand_template("DynamoDBCrudPolicy", &json!({"TableArn": "x"}), &pseudo(), &location)
            .expect_err("bad parameter");
        assert_eq!(
            error.message,
            "DynamoDBCrudPolicy needs parameter TableName; TableArn is not one of its parameters"
        );
        let error = expand_template("DynamoDBFullAccessPolicy", &json!({}), &pseudo(), &location).expect_err("unknown");
        assert_eq!(error.message, "unknown policy template DynamoDBFullAccessPolicy");
        assert!(
            expand_template(
                "AthenaQueryPolicy",
                &json!({"WorkGroupName": "w"}),
                &pseudo(),
                &location
            )
            .expect("known")
            .is_none()
        );
    }

    #[test]
    fn managed_policy_arns() {
        assert_eq!(
            managed("AWSLambdaBasicExecutionRole", &pseudo()).arn.as_deref(),
            Some("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
        );
        assert_eq!(
            managed("AmazonDynamoDBReadOnlyAccess", &pseudo()).arn.as_deref(),
            Some("arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess")
        );
        assert!(managed("AmazonDynamoDBReadOnlyAccess", &pseudo()).document.is_some());
        assert!(
            managed("arn:aws:iam::000000000000:policy/Mine", &pseudo())
                .document
                .is_none()
        );
    }
}
