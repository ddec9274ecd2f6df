"""Real-looking, fake secrets: one of every kind detect-secrets knows, each on a line of code.

AWS's access key id is the example from its documentation; the others are random strings with the
prefix, length and alphabet of the real thing. None was ever a credential.
"""

from dataclasses import dataclass

from codesuggest.providers.redaction import MARKER


@dataclass(frozen=True)
class Sample:
    kind: str  # detect-secrets' secret type
    secret: str
    line: str  # a line of Python holding it

    def __str__(self) -> str:
        return f"{self.kind}: {self.line.split(chr(10))[0][:40]}"


RSA_BODY = (
    "MIIEpAIBAAKCAQEAu8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAj\n"
    "Pu2njHkAm1/5wDr16EpLLJIVGHz4FxFEtKyPiYGFDm7ena8D5VfLDpgyyjVw5Han\n"
    "SBeVRsfAGeAbP0VxNjAe/9i0mYtluYI0KN1gNT11cUzYZAa3u2olZU6uqbgsYlVv\n"
    "sSKuvinX+zMqf9OgXluCZz8xBfZuXTptFyfePpX6N1NF2XV54wca+7E56w8ZniqT\n"
    "3Ul4ffqkOkgWrdioyq+KvCiSGuPJ6sG9AHEOVezxZuJPWvHogU5nGYVHWVsUQk4D"
)
RSA_KEY = f"-----BEGIN RSA PRIVATE KEY-----\n{RSA_BODY}\n-----END RSA PRIVATE KEY-----"


def _sample(kind: str, secret: str, line: str) -> Sample:
    return Sample(kind, secret, line.format(secret))


SAMPLES = (
    _sample(
        "Artifactory Credentials",
        "AKCp8u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKd",
        "# export ARTIFACTORY_TOKEN={}",
    ),
    _sample(
        "AWS Access Key", "AKIAIOSFODNN7EXAMPLE", 's3 = boto3.client("s3", aws_access_key_id="{}")'
    ),
    _sample(
        "AWS Access Key",
        # Random, from 20 characters: the documentation's example holds more, and is quoted, as
        # this plugin wants, so the high-entropy plugin would find it as well.
        "87JZ34lE4X45NJ33DC45ELEgDNC8O5JEG/ZJGLCN",
        '# aws configure set aws_secret_access_key "{}"',
    ),
    _sample(
        "Azure Storage Account access key",
        "AccountKey=A/2O76UMFxFkM/R5Kjp1vRt+1fjORS/6ilI8ihN5KXSc7Tvo/hBKqFYY/kv5ZJr3J1TWDtkwtDDb+xH"
        "Kas1VOq==",
        'BLOBS = "DefaultEndpointsProtocol=https;AccountName=acme;{};"',
    ),
    _sample(
        "Basic Auth Credentials", "Tr0ub4dor3xQ", 'DATABASE = "postgres://app:{}@db.internal/app"'
    ),
    _sample("Cloudant Credentials", "alelcjdffhfjbidgcdgbkahi", 'cloudant_token = "{}"'),
    _sample(
        "Discord Bot Token",
        "MTAS2G8NPRVdD53X83RZJzzz.zgEOzd.yiA4uoRgnatmUdjAWtGSU8po_79",
        'bot.run("{}")',
    ),
    _sample(
        "GitHub Token",
        "ghp_EtfjgVvVqE1SkHbn88HxjSI6bWHtP3fS2qHx",
        "# export GITHUB_TOKEN={}",
    ),
    _sample(
        "GitLab Token",
        "glpat-6kwXoIIXGvOoNZYW2mZp",
        'gl = gitlab.Gitlab(URL, private_token="{}")',
    ),
    _sample(
        "Base64 High Entropy String",
        "ZDz/TddJ8HyS5SUkCnD8zRA9a9SkpXz9w3QlY7Zk",
        'SIGNING_SALT = "{}"',
    ),
    _sample("Hex High Entropy String", "55404e4fb440034d6608697a8d41bed4", 'WEBHOOK_TOKEN = "{}"'),
    _sample(
        "IBM Cloud IAM Key",
        "tc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jB",
        "ibm_cloud_iam_token: {}",
    ),
    _sample(
        "IBM COS HMAC Credentials",
        "934b484e73cf575dcad6ba2b0aee0ca923732881584d8c4f",
        "cos_hmac_secret_access_key: {}",
    ),
    _sample(
        "JSON Web Token",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFsaWNlIiwia"
        "WF0IjoxNzE2MjM5MDIyfQ.PlJhx2jIclHkCiHp6bR1IqfEouHgxzNNAL5wIScGebc",
        'headers = {{"Authorization": "Bearer {}"}}',
    ),
    _sample(
        "Mailchimp Access Key",
        "6f7e3dfc967a64cb14028d512c9791e5-us14",
        'mailchimp.set_config({{"api": "{}"}})',
    ),
    _sample(
        "NPM tokens",
        "npm_krCaqx9vJupc94tnwlavyfErGPmpGXafq0fj",
        "NPMRC = '//registry.npmjs.org/:_authToken={}'",
    ),
    _sample(
        "OpenAI Token",
        "sk-proj-zLczbttOofL9H2WjQ5TYT3BlbkFJ4MyWuUFjsUNPjc01T5GO",
        "# export OPENAI_API_KEY={}",
    ),
    _sample("Private Key", RSA_KEY, 'SIGNING_KEY = """{}"""'),
    _sample(
        "PyPI Token",
        "pypi-AgEIcHlwaS5vcmc2rcDkdfrUnW5gcF-Ha6ili8GjHEAD6_Wj9KfzjsQGMrb9h-ImB-LK777pzNk8cL6j5IX"
        "AAjlsHUqJoUD",
        "# twine upload --username __token__ --password {} dist/*",
    ),
    _sample("Secret Keyword", "correct-horse-battery-staple", 'password = "{}"'),
    _sample(
        "SendGrid API Key",
        "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",
        "mail = SendGridAPIClient('{}')",
    ),
    _sample(
        "Slack Token",
        "xoxb-446347861221-3878375762833-flvJfupxqZKm4bV3AyAVHnyr",
        "# export SLACK_BOT_TOKEN={}",
    ),
    _sample(
        "SoftLayer Credentials",
        "vd5rxi67nfrpyz21tbic145aez732pgojj7g3f9caioctiq71hget7myqoaa8t3r",
        "# sl_token: {}",
    ),
    _sample(
        "Square OAuth Secret",
        "sq0csp-OF8EFd0Nhcy_1kGD2VD_eR1UYzaLiA_zNyD7CHLn_xC",
        "# export SQUARE_APPLICATION_SECRET={}",
    ),
    _sample("Stripe Access Key", "sk_live_FA6Qd8Mj7zdnbMjAdTdlzC5T", "# export STRIPE_KEY={}"),
    _sample(
        "Telegram Bot Token",
        "5112532870:AANWVQ4vnakJkS1pAWTN3lg8zV5yPU8d0FZ",
        "bot = telegram.Bot({})",
    ),
    _sample(
        "Twilio API Key", "SK1c1e21862ab8a18a8902073fec8df4f5", 'twilio = Client("{}", SECRET)'
    ),
)

# Other forms of the same kinds: the other patterns of a plugin, the other keywords it looks for.
VARIANTS = (
    *(
        _sample("AWS Access Key", key, 'ROTATED_KEY_IDS.append("{}")')
        for key in (
            "A3TXSFBT1Y7WIMR2AO3B",
            "ABIAGF50B61WDNCXLNXX",
            "ACCASUF4L42KLL8U7MHF",
            "AKIAG1CRRVGXS8T39NQJ",
            "ASIAGH5PV8JGYK2CD0ZB",
        )
    ),
    _sample(
        "Artifactory Credentials", "AP6kZoRaoZV8dI8CVfwbYyF", "# export ARTIFACTORY_PASSWORD={}"
    ),
    _sample("Cloudant Credentials", "hlgkjcaebdifhlgkjcaebdif", "cl_pw: {}"),
    _sample(
        "GitLab Token",
        "GR1348941yejH7z6LBlnvEGm1vb4R",
        "# gitlab-runner register --registration-token {}",
    ),
    _sample("IBM Cloud IAM Key", "1v0iEL20MgKndrQ3FvkRoE85IaRWdsZAdw52k1J9wMHl", "iam_api_key: {}"),
    _sample("IBM Cloud IAM Key", "Ch-Wc60LO0SMJRuXf19GJlXBHsVo7pJ4aeHoF8f0kJzU", "cloud_pwd: {}"),
    _sample("IBM Cloud IAM Key", "slxYULkvfpxcrrL8LgfnPdrSluBA2OC3UCN6qTWNf_YS", "ibm_pass: {}"),
    _sample("Secret Keyword", "correct-horse-battery", 'api_key = "{}"'),
    _sample("Secret Keyword", "correct-horse-battery", 'db_pwd = "{}"'),
    _sample("Secret Keyword", "correct-horse-battery", 'CLIENT_SECRET = "{}"'),
    _sample("Secret Keyword", "caballo-correcto-bateria", 'contraseña = "{}"'),
    _sample(
        "Slack Token",
        "https://hooks.slack.com/services/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",
        "# curl -X POST {} -d @message.json",
    ),
    _sample(
        "SoftLayer Credentials",
        "1e3azyqdc0ywrkje638he14jthb7n8mwtrs1588svbo9jeihtqhffc4c6qr80ame",
        "# wsdl: https://api.softlayer.com/soap/v3/{}",
    ),
    _sample(
        "Twilio API Key", "AC456f1480c1d10440bd0f2ea915693454", "# export TWILIO_ACCOUNT_SID={}"
    ),
)

# A file of them all: each secret's line between lines of ordinary code that must reach the model.
PROGRAM = "\n".join(
    f"# {sample.kind}\n{sample.line}\nsetup_{number}()"
    for number, sample in enumerate(SAMPLES + VARIANTS)
)


def masked_program() -> str:
    """PROGRAM as the model must receive it."""
    text = PROGRAM
    for sample in SAMPLES + VARIANTS:
        text = text.replace(sample.secret, MARKER)
    return text


def secrets_in(text: str) -> list[str]:
    """The samples' secrets that `text` holds, whole or a line of one (of the private key)."""
    parts = {part for sample in SAMPLES + VARIANTS for part in sample.secret.split("\n")}
    return sorted(part for part in parts if part in text)
