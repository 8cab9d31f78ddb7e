#!/usr/bin/env python3
"""eprop.py with one planted bug: the recurrent trace r̄ runs at 1.02·α instead of α (a 2% error
in its time constant). `biornn conform --exec 'python3 eprop_planted_bug.py' --claims
equalsStopGradientBPTT --claims exactReadout` must fail, naming the check and the tensor."""
from eprop import main

if __name__ == "__main__":
    main(recurrent_trace_rate=1.02)
