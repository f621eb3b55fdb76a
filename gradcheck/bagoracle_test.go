package gradcheck_test

import (
	"testing"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/internal/suite"
)

func TestBagOracle(t *testing.T) { suite.Test(t, gradcheck.BagOracleChecks()) }
