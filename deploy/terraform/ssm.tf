# The configuration parameter, when the deployment brings its YAML (collections_yaml);
# otherwise it is created by hand as the seed's guide says.
resource "aws_ssm_parameter" "config" {
  count = var.collections_yaml == null ? 0 : 1
  name  = var.config_parameter_name
  type  = "String"
  # Standard parameters hold 4 KB; a longer list of collections needs the advanced tier.
  tier  = length(var.collections_yaml) > 4096 ? "Advanced" : "Standard"
  value = var.collections_yaml
}
