"""The back office's JSON-RPC API as the web client (sao) calls it: one
user's session, models and wizards, for the tests that act as a user."""
import base64
import json
import urllib.request


class RPCError(Exception):
    pass


class Client:
    "A JSON-RPC session of one user, as sao opens it"

    def __init__(self, url, database):
        self.url = url
        self.database = database
        self.auth = None
        self.context = {}

    def call(self, method, *params):
        request = urllib.request.Request(
            f'{self.url}{self.database}/rpc/',
            data=json.dumps({'id': 1, 'method': method,
                    'params': list(params)}).encode(),
            headers={'Content-Type': 'application/json'})
        if self.auth:
            request.add_header('Authorization', self.auth)
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.loads(response.read())
        if answer.get('error'):
            raise RPCError(answer['error'])
        return answer['result']

    def login(self, login, password):
        user_id, session, *_ = self.call(
            'common.db.login', login, {'password': password}, 'en')
        token = base64.b64encode(
            f'{login}:{user_id}:{session}'.encode()).decode()
        self.auth = f'Session {token}'
        self.context = self.call('model.res.user.get_preferences', True, {})
        return self

    def model(self, model, method, *args):
        return self.call(f'model.{model}.{method}', *args, self.context)

    def search_read(self, model, domain, fields, order=None):
        return self.model(model, 'search_read', domain, 0, None, order,
            fields)

    def wizard(self, name, state, record_model, record_id, data=None):
        "Run one state of a wizard launched from a record's button"
        context = dict(self.context, active_model=record_model,
            active_id=record_id, active_ids=[record_id])
        session, _start, _end = self.call(f'wizard.{name}.create', context)
        try:
            return self.call(f'wizard.{name}.execute', session, data or {},
                state, context)
        finally:
            self.call(f'wizard.{name}.delete', session, context)
