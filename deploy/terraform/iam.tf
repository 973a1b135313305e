# The functions' role, unless lambda_role_arn names one: the seed's policy, each statement
# on the one resource it is for (the seed's own list: MWAA, the JWT secret, the config
# parameter, the staging bucket; here also the collections' buckets, read-only).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  create_role = var.lambda_role_arn == null
  account     = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition

  config_parameter_arn = "arn:${local.partition}:ssm:${var.aws_region}:${local.account}:parameter/${trimprefix(var.config_parameter_name, "/")}"
  mwaa_environment_arn = "arn:${local.partition}:airflow:${var.aws_region}:${local.account}:environment/${var.mwaa_env_name}"
  # airflow:InvokeRestApi is granted per Airflow role of the environment.
  mwaa_airflow_role_arn  = "arn:${local.partition}:airflow:${var.aws_region}:${local.account}:role/${var.mwaa_env_name}/${var.mwaa_airflow_role}"
  staging_bucket_arn     = "arn:${local.partition}:s3:::${var.s3_bucket_staging}"
  collection_bucket_arns = [for b in var.collection_buckets : "arn:${local.partition}:s3:::${b}"]
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "lambda" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for g in aws_cloudwatch_log_group.function : "${g.arn}:*"]
  }
  statement {
    sid       = "MwaaEnvironment"
    actions   = ["airflow:GetEnvironment"]
    resources = [local.mwaa_environment_arn]
  }
  statement {
    sid       = "MwaaRestApi"
    actions   = ["airflow:InvokeRestApi"]
    resources = [local.mwaa_airflow_role_arn]
  }
  statement {
    sid       = "JwtSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.jwt_secret_arn]
  }
  statement {
    sid       = "ConfigParameter"
    actions   = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = [local.config_parameter_arn]
  }
  statement {
    sid       = "BucketListing"
    actions   = ["s3:ListBucket"]
    resources = concat([local.staging_bucket_arn], local.collection_bucket_arns)
  }
  statement {
    sid       = "StagingObjects"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${local.staging_bucket_arn}/*"]
  }
  dynamic "statement" {
    for_each = length(local.collection_bucket_arns) > 0 ? [1] : []
    content {
      sid       = "CollectionObjects"
      actions   = ["s3:GetObject"]
      resources = [for arn in local.collection_bucket_arns : "${arn}/*"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  count              = local.create_role ? 1 : 0
  name               = "${local.name_prefix}-lambda"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
}

resource "aws_iam_role_policy" "lambda" {
  count  = local.create_role ? 1 : 0
  name   = "${local.name_prefix}-access"
  role   = aws_iam_role.lambda[0].id
  policy = data.aws_iam_policy_document.lambda.json
}

# In a VPC, Lambda manages the functions' network interfaces with the role's rights (the
# seed's AWSLambdaVPCAccessExecutionRole; EC2 grants these on no narrower resource).
resource "aws_iam_role_policy_attachment" "vpc" {
  count      = local.create_role && length(var.vpc_subnet_ids) > 0 ? 1 : 0
  role       = aws_iam_role.lambda[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}
