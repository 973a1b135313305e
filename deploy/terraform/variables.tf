# The seed's variables (terraform/application/modules/lambdas), same names and meaning, so
# an existing variables.tfvars works unchanged; then scigate's own, all with defaults.

variable "aws_profile" {
  description = "AWS CLI profile to use for authentication (null: the default credentials chain)."
  type        = string
  default     = null
}

variable "aws_region" {
  description = "AWS region of the functions, the API, MWAA, the parameter and the secret."
  type        = string
}

variable "maturity" {
  description = "Maturity level of the deployment (poc, iac, ops); part of every resource name."
  type        = string
}

variable "stage" {
  description = "Name of the API Gateway deployment stage (e.g. dev)."
  type        = string
}

variable "lambda_role_arn" {
  description = "IAM role the functions run as. Null: the module creates one scoped to this deployment (iam.tf)."
  type        = string
  default     = null
}

variable "jwt_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the JWT HS256 key (the seed's jwtSecret)."
  type        = string
}

variable "s3_bucket_staging" {
  description = "S3 bucket where workflow outputs are staged."
  type        = string
}

variable "mwaa_env_name" {
  description = "Name of the MWAA environment the workflows run on."
  type        = string
}

variable "vpc_subnet_ids" {
  description = "Private subnets the functions run in (empty: no VPC)."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups of the functions (they must reach MWAA, S3, SSM and Secrets Manager)."
  type        = list(string)
  default     = []
}

# scigate's own.

variable "package_path" {
  description = "The function code: the zip made by `make lambda-package`."
  type        = string
  default     = "../../build/lambda/scigate-lambda.zip"
}

variable "layout" {
  description = "per-operation: one function per seed operation, as the seed deploys; proxy: one function behind {proxy+} (and the seed's paths), serving every scigate route."
  type        = string
  default     = "per-operation"
  validation {
    condition     = contains(["per-operation", "proxy"], var.layout)
    error_message = "layout must be per-operation or proxy."
  }
}

variable "collection_buckets" {
  description = "S3 buckets holding the collections' data (read-only for the functions)."
  type        = list(string)
  default     = []
}

variable "config_parameter_name" {
  description = "SSM parameter holding the configuration (the seed's: collections only; or a full scigate config)."
  type        = string
  default     = "/labcas/workflow/api/config"
}

variable "collections_yaml" {
  description = "When set, the module creates the configuration parameter with this YAML; null: the parameter exists already."
  type        = string
  default     = null
}

variable "ledger_url" {
  description = "Run ledger (SCIGATE_LEDGER), e.g. a postgresql:// URL shared by every function; null: a per-environment SQLite file in /tmp."
  type        = string
  default     = null
  sensitive   = true
}

variable "config_ttl" {
  description = "How long a function keeps the configuration before reading the parameter again (SCIGATE_CONFIG_TTL)."
  type        = string
  default     = "5m"
}

variable "mwaa_airflow_role" {
  description = "Airflow role the functions act as through airflow:InvokeRestApi (the seed's: User)."
  type        = string
  default     = "User"
}

variable "allowed_origin" {
  description = "CORS origin the OPTIONS responses allow (the stage variable allowedOrigin the seed's API uses)."
  type        = string
  default     = "*"
}

variable "memory_size" {
  description = "Memory of each function, MB."
  type        = number
  default     = 512
}

variable "timeout" {
  description = "Timeout of each function, seconds (API Gateway itself stops waiting after 29 s)."
  type        = number
  default     = 30
}

variable "log_retention_days" {
  description = "Retention of the functions' CloudWatch log groups."
  type        = number
  default     = 30
}
