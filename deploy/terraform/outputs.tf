output "invoke_url" {
  description = "Base URL of the API stage."
  value       = aws_api_gateway_stage.api.invoke_url
}

output "rest_api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.api.id
}

output "function_names" {
  description = "Function of each operation (and the authorizer's), for `aws lambda invoke`."
  value       = { for key, fn in aws_lambda_function.function : key => fn.function_name }
}

output "lambda_role_arn" {
  description = "Role the functions run as."
  value       = local.role_arn
}
