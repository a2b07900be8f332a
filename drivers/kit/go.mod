module github.com/faultline/faultline/drivers/kit

go 1.26.0
