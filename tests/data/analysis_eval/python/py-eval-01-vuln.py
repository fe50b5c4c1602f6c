from fastapi import FastAPI
from pydantic import BaseModel

api = FastAPI()


class Formula(BaseModel):
    expression: str
    variables: dict[str, float] = {}


@api.post("/calc")
def calculate(formula: Formula):
    scope = dict(formula.variables)
    value = eval(formula.expression, {"__builtins__": {}}, scope)
    return {"value": value}
