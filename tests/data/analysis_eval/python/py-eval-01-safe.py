import ast
import operator

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

api = FastAPI()
OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


class Formula(BaseModel):
    expression: str
    variables: dict[str, float] = {}


def _walk(node, scope):
    if isinstance(node, ast.Expression):
        return _walk(node.body, scope)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.Name) and node.id in scope:
        return scope[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in OPS:
        return OPS[type(node.op)](_walk(node.left, scope), _walk(node.right, scope))
    raise HTTPException(400, "unsupported expression")


@api.post("/calc")
def calculate(formula: Formula):
    tree = ast.parse(formula.expression, mode="eval")
    return {"value": _walk(tree, dict(formula.variables))}
