# API Gateway (REST) from the seed's OpenAPI document, its integrations pointed at the
# functions; a new deployment whenever the document changes.

locals {
  openapi = templatefile("${path.module}/openapi.yml.tftpl", {
    invoke_arns           = { for op, fn in local.operation_function : op => aws_lambda_function.function[fn].invoke_arn }
    authorizer_invoke_arn = aws_lambda_function.function["authorizer"].invoke_arn
    proxy                 = var.layout == "proxy"
    proxy_invoke_arn      = var.layout == "proxy" ? aws_lambda_function.function["api"].invoke_arn : ""
  })
}

resource "aws_api_gateway_rest_api" "api" {
  name = "${local.name_prefix}-api"
  body = local.openapi
  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_deployment" "api" {
  rest_api_id = aws_api_gateway_rest_api.api.id
  triggers = {
    redeployment = sha1(local.openapi)
  }
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "api" {
  rest_api_id   = aws_api_gateway_rest_api.api.id
  deployment_id = aws_api_gateway_deployment.api.id
  stage_name    = var.stage
  # The seed's CORS preflight answers name this origin.
  variables = {
    allowedOrigin = var.allowed_origin
  }
}
