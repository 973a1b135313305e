"""deploy/terraform without Terraform (no Debian package): every file parses with HashiCorp's
HCL parser and every reference resolves (tests/tools/terraform_check.mjs); the OpenAPI
template, rendered as templatefile() would, keeps the seed's paths and operations and
points each at the function for it; the functions are the seed's; no IAM statement opens
SSM or Secrets Manager beyond the one parameter and the one secret; and the checker does
fail on a broken module."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

SOURCE = os.environ.get("SCIGATE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
MODULE = os.path.join(SOURCE, "deploy", "terraform")
CHECKER = os.path.join(SOURCE, "tests", "tools", "terraform_check.mjs")
SEED_OPENAPI = os.path.join(SOURCE, "tests", "fixtures", "seed", "labcas-workflow-api-openapi.yml")

# The seed's one-function-per-operation layout (docs: issue 13, the lead's LAMBDA.md).
SEED_OPERATIONS = ["listworkflows", "describeworkflow", "createrun", "listruns", "browseoutputs", "updateoutput",
                   "notimplemented"]
SEED_VARIABLES = ["aws_profile", "aws_region", "maturity", "stage", "lambda_role_arn", "jwt_secret_arn",
                  "s3_bucket_staging", "mwaa_env_name", "vpc_subnet_ids", "vpc_security_group_ids"]
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"}


def run_checker(module_dir):
    out = subprocess.run(["node", CHECKER, module_dir], capture_output=True, text=True, timeout=120)
    return out.returncode, json.loads(out.stdout) if out.stdout.strip() else {"errors": [out.stderr]}


def render(template, variables):
    """Terraform's templatefile() for the constructs the template uses: `%{ if NAME ~}` …
    `%{ endif ~}` and `${NAME}` / `${NAME["KEY"]}`. Anything else fails the test."""
    out, pos, keep = [], 0, [True]
    for m in re.finditer(r"%\{(~?)\s*(if\s+(\w+)|endif)\s*(~?)\}(\n?)", template):
        if keep[-1]:
            out.append(template[pos:m.start()])
        if m.group(2).startswith("if"):
            name = m.group(3)
            if name not in variables:
                raise KeyError(f"template uses undeclared variable {name}")
            keep.append(keep[-1] and bool(variables[name]))
        else:
            keep.pop()
        # `~}` strips the whitespace (here: the newline) after the directive.
        pos = m.end() if m.group(4) else m.end() - len(m.group(5))
    out.append(template[pos:] if keep[-1] else "")
    text = "".join(out)
    if "%{" in text:
        raise ValueError("unsupported template directive")

    def interpolate(m):
        expr = m.group(1)
        k = re.fullmatch(r'(\w+)\["(\w+)"\]', expr)
        if k:
            return variables[k.group(1)][k.group(2)]
        if re.fullmatch(r"\w+", expr):
            return variables[expr]
        raise ValueError(f"unsupported template expression {expr}")

    return re.sub(r"\$\{([^}]*)\}", interpolate, text)


def operations(doc):
    """{(path, method): integration} of an OpenAPI document."""
    return {(path, method): spec.get("x-amazon-apigateway-integration", {})
            for path, item in doc["paths"].items() for method, spec in item.items() if method in HTTP_METHODS}


def statements(policy_document):
    """The statements of a parsed aws_iam_policy_document, the dynamic ones included."""
    out = list(policy_document.get("statement", []))
    for dyn in policy_document.get("dynamic", {}).get("statement", []):
        out.extend(dyn["content"])
    return out


class TerraformModuleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rc, cls.result = run_checker(MODULE)
        cls.module = cls.result.get("module", {})
        cls.locals = {k: v for block in cls.module.get("locals", []) for k, v in block.items()}
        with open(SEED_OPENAPI) as f:
            cls.seed = yaml.safe_load(f)
        with open(os.path.join(MODULE, "openapi.yml.tftpl")) as f:
            cls.template = f.read()

    def test_every_file_parses_and_every_reference_resolves(self):
        self.assertEqual(self.result["errors"], [])
        self.assertEqual(self.rc, 0)
        self.assertIn("aws_lambda_function", self.module["resource"])
        self.assertIn("aws_api_gateway_rest_api", self.module["resource"])

    def test_the_seeds_variables_are_declared_and_only_its_required_ones_have_no_default(self):
        variables = self.module["variable"]
        for name in SEED_VARIABLES:
            self.assertIn(name, variables)
        required = sorted(n for n, v in variables.items() if "default" not in v[0])
        self.assertEqual(required, sorted(["aws_region", "maturity", "stage", "jwt_secret_arn", "s3_bucket_staging",
                                           "mwaa_env_name"]))

    def test_per_operation_functions_are_the_seeds_operations(self):
        self.assertEqual(self.locals["seed_operations"], SEED_OPERATIONS)
        seed_names = set()
        for integration in operations(self.seed).values():
            m = re.search(r"\$\{LAMBDA_ARN_PREFIX\}-(\w+)/invocations", integration.get("uri", ""))
            if m:
                seed_names.add(m.group(1))
        self.assertEqual(seed_names, set(SEED_OPERATIONS))
        fn = self.module["resource"]["aws_lambda_function"]["function"][0]
        self.assertEqual(fn["runtime"], "provided.al2023")
        self.assertEqual(fn["handler"], "bootstrap")
        self.assertEqual(fn["for_each"], "${local.functions}")
        self.assertIn("SCIGATE_OPERATION = each.value.operation", fn["environment"][0]["variables"])
        self.assertIn("authorizer", self.locals["functions"])
        # The seed's functions' environment, which seed mode reads.
        self.assertEqual(sorted(self.locals["seed_environment"]),
                         sorted(["STAGE", "REGION", "MWAA_ENV_NAME", "S3_BUCKET_STAGING", "JWT_SECRET_KEY_ARN"]))

    def template_variables(self):
        """The variables api.tf passes to the template, by name."""
        call = self.locals["openapi"]
        self.assertIn("openapi.yml.tftpl", call)
        return set(re.findall(r"(?m)^\s*(\w+)\s*=", call.split("{", 1)[1]))

    def rendered(self, proxy):
        arn = "arn:aws:apigateway:us-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-west-1:1:function:{}"
        variables = {
            "invoke_arns": {op: arn.format("api" if proxy else op) + "/invocations" for op in SEED_OPERATIONS},
            "authorizer_invoke_arn": arn.format("authorizer") + "/invocations",
            "proxy": proxy,
            "proxy_invoke_arn": arn.format("api") + "/invocations" if proxy else "",
        }
        self.assertEqual(self.template_variables(), set(variables))
        return yaml.safe_load(render(self.template, variables))

    def test_rendered_per_operation_api_has_the_seeds_paths_methods_and_functions(self):
        doc = self.rendered(proxy=False)
        seed_ops, ops = operations(self.seed), operations(doc)
        self.assertEqual(sorted(ops), sorted(seed_ops))
        for key, seed_integration in seed_ops.items():
            integration = ops[key]
            self.assertEqual(integration["type"], seed_integration["type"], key)
            if seed_integration["type"] == "aws_proxy":
                want = re.search(r"-(\w+)/invocations", seed_integration["uri"]).group(1)
                self.assertTrue(integration["uri"].endswith(f"function:{want}/invocations"), (key, integration))
                self.assertNotIn("credentials", integration)
                self.assertEqual(doc["paths"][key[0]][key[1]]["security"],
                                 self.seed["paths"][key[0]][key[1]]["security"])
        authorizer = doc["components"]["securitySchemes"]["labcas-workflow-authorizer"]["x-amazon-apigateway-authorizer"]
        self.assertEqual(authorizer["type"], "request")
        self.assertEqual(authorizer["identitySource"], "method.request.header.Authorization")
        self.assertTrue(authorizer["authorizerUri"].endswith("function:authorizer/invocations"))

    def test_rendered_proxy_api_adds_one_catch_all_route_and_sends_everything_to_one_function(self):
        doc = self.rendered(proxy=True)
        ops = operations(doc)
        self.assertEqual(sorted(set(ops) - set(operations(self.seed))),
                         [("/{proxy+}", "x-amazon-apigateway-any-method")])
        for key, integration in ops.items():
            if integration.get("type") == "aws_proxy":
                self.assertTrue(integration["uri"].endswith("function:api/invocations"), key)

    def test_iam_names_no_wildcard_for_parameters_and_secrets(self):
        policy = self.module["data"]["aws_iam_policy_document"]["lambda"][0]
        seen = set()
        for st in statements(policy):
            resources = st["resources"] if isinstance(st["resources"], list) else [st["resources"]]
            self.assertNotIn("*", resources, st)
            for action in st["actions"]:
                seen.add(action)
                if action.split(":")[0] in ("ssm", "secretsmanager"):
                    self.assertEqual(len(resources), 1, st)
                    self.assertNotIn("*", resources[0], st)
                    self.assertNotIn("*", action, st)
        self.assertTrue({"airflow:InvokeRestApi", "ssm:GetParameter", "secretsmanager:GetSecretValue",
                         "s3:GetObject", "s3:PutObject", "s3:ListBucket"} <= seen, seen)
        self.assertIn("role/${var.mwaa_env_name}/${var.mwaa_airflow_role}", self.locals["mwaa_airflow_role_arn"])
        self.assertIn("parameter/", self.locals["config_parameter_arn"])

    def test_checker_fails_on_a_broken_module(self):
        cases = {
            "undeclared variable var.undeclared": lambda d: replace(
                os.path.join(d, "outputs.tf"), 'output "invoke_url" {', 'output "broken" {\n  value = var.undeclared\n}\n\noutput "invoke_url" {'),
            "undeclared resource aws_lambda_function.fn": lambda d: replace(
                os.path.join(d, "api.tf"), "aws_lambda_function.function[fn]", "aws_lambda_function.fn[fn]"),
            "undeclared local local.seed_operations": lambda d: replace(
                os.path.join(d, "main.tf"), "  seed_operations = ", "  seed_operation_names = "),
            "undeclared data source data.aws_partition.here": lambda d: replace(
                os.path.join(d, "iam.tf"), "data.aws_partition.current.partition", "data.aws_partition.here.partition"),
            "ssm.tf": lambda d: replace(os.path.join(d, "ssm.tf"), "count = ", "count = = "),
        }
        for expected, mutate in cases.items():
            with self.subTest(expected), tempfile.TemporaryDirectory() as tmp:
                copy = os.path.join(tmp, "terraform")
                shutil.copytree(MODULE, copy)
                mutate(copy)
                rc, result = run_checker(copy)
                self.assertEqual(rc, 1, result["errors"])
                self.assertTrue(any(expected in e for e in result["errors"]), result["errors"])


def replace(path, old, new):
    with open(path) as f:
        text = f.read()
    assert old in text, (path, old)
    with open(path, "w") as f:
        f.write(text.replace(old, new))


if __name__ == "__main__":
    unittest.main()
