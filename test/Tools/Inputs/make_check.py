"""The command line shared by the model-vs-ONNX-Runtime test scripts:

  SCRIPT make DIR        writes the models and inputs into DIR
  SCRIPT check DIR OUT   compares quantc's outputs in OUT with ONNX Runtime;
                         the exit status is check's return value
"""
import sys


def main(make, check):
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        sys.exit(check(sys.argv[2], sys.argv[3]))
