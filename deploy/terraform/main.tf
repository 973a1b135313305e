# The functions: every one runs the same package (make lambda-package), a custom runtime
# whose bootstrap starts `scigate lambda`; what each serves comes from its environment.

locals {
  # The seed's names (labcas-<maturity>-workflows-<operation>), so its test.sh and
  # console habits keep working.
  name_prefix = "labcas-${var.maturity}-workflows"

  # The seed's one-function-per-operation layout (SCIGATE_OPERATION names each).
  seed_operations = ["listworkflows", "describeworkflow", "createrun", "listruns", "browseoutputs", "updateoutput", "notimplemented"]

  # The seed's default parameter: scigate reads it by itself in the seed's environment.
  seed_config_parameter = "/labcas/workflow/api/config"

  # Function key => its name and SCIGATE_OPERATION ("" = route by the event's path).
  api_functions = var.layout == "per-operation" ? {
    for op in local.seed_operations : op => { name = "${local.name_prefix}-${op}", operation = op }
    } : {
    api = { name = "${local.name_prefix}-api", operation = "" }
  }
  functions = merge(local.api_functions, {
    authorizer = { name = "${local.name_prefix}-authorizer", operation = "authorizer" }
  })

  # Which function serves each of the seed's operations.
  operation_function = { for op in local.seed_operations : op => var.layout == "per-operation" ? op : "api" }

  role_arn = var.lambda_role_arn != null ? var.lambda_role_arn : aws_iam_role.lambda[0].arn

  # The seed's functions' environment, which is all scigate needs in the seed's setup
  # (the collections come from the SSM parameter, the JWT key from the secret).
  seed_environment = {
    STAGE              = var.stage
    REGION             = var.aws_region
    MWAA_ENV_NAME      = var.mwaa_env_name
    S3_BUCKET_STAGING  = var.s3_bucket_staging
    JWT_SECRET_KEY_ARN = var.jwt_secret_arn
  }
  environment = merge(
    local.seed_environment,
    { SCIGATE_CONFIG_TTL = var.config_ttl },
    var.config_parameter_name == local.seed_config_parameter ? {} : { SCIGATE_CONFIG = "ssm:${var.config_parameter_name}" },
    var.ledger_url == null ? {} : { SCIGATE_LEDGER = var.ledger_url },
  )
}

resource "aws_cloudwatch_log_group" "function" {
  for_each          = local.functions
  name              = "/aws/lambda/${each.value.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "function" {
  for_each         = local.functions
  function_name    = each.value.name
  role             = local.role_arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = ["x86_64"]
  filename         = var.package_path
  source_code_hash = filebase64sha256(var.package_path)
  memory_size      = var.memory_size
  timeout          = var.timeout

  environment {
    variables = merge(
      local.environment,
      each.value.operation == "" ? {} : { SCIGATE_OPERATION = each.value.operation },
      # The proxy function also serves routes no API Gateway authorizer guards (health,
      # the web pages): it verifies the Authorization header itself.
      each.key == "api" ? { SCIGATE_TRUST_AUTHORIZER = "false" } : {},
    )
  }

  dynamic "vpc_config" {
    for_each = length(var.vpc_subnet_ids) > 0 ? [1] : []
    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  # The log group first, so Lambda does not create it without a retention; the role's
  # policy first, so the first invocation already has its permissions.
  depends_on = [aws_cloudwatch_log_group.function, aws_iam_role_policy.lambda, aws_iam_role_policy_attachment.vpc]
}

# API Gateway invokes the functions under their resource policy: the API's methods, and
# the authorizer for the API's authorizers.
resource "aws_lambda_permission" "api_gateway" {
  for_each      = local.functions
  statement_id  = "AllowApiGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.function[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = each.key == "authorizer" ? "${aws_api_gateway_rest_api.api.execution_arn}/authorizers/*" : "${aws_api_gateway_rest_api.api.execution_arn}/*/*"
}
