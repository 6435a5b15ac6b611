# Plain Python helpers of the quote process, without the ORM.
